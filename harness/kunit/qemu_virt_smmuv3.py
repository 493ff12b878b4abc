# SPDX-License-Identifier: GPL-2.0
# kunit.py --qemu_config for the test machine, on the project's QEMU (qemu/,
# harness/qemu.sh): QEMU virt with a GICv3 ITS and an emulated SMMUv3 with
# substreams in front of the PCIe root complex, QEMU's edu device (1234:11e8)
# without PASIDs, and a second edu with a PASID capability (it tags its DMA
# with a PASID), so DMA and MSIs from real PCI devices go through the SMMU at
# their RIDs and at PASIDs. The kconfig below is what the machine needs, not
# what is tested.
#
# ssidsize=16 with cd2l=off and x-pasid-width=16: the SMMU offers more
# substreams than a linear CD table holds and no 2-level tables, the case
# the series' first patch fixes. oas=52 and lpa2=off: arm-smmu-v3 offers
# SVA only when the SMMU's OAS covers the CPU's PARange and the CPU does
# not use LPA2 (qemu/README.md). Without CONFIG_PCI_PASID arm-smmu-v3 never
# enables the second edu's PASID capability.
from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='arm64',
			   kconfig='''
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
CONFIG_PCI=y
CONFIG_PCI_HOST_GENERIC=y
CONFIG_PCI_MSI=y
CONFIG_PCI_STUB=y
CONFIG_ARM_GIC_V3_ITS=y
CONFIG_IOMMU_SUPPORT=y
CONFIG_ARM_SMMU_V3=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
CONFIG_PRINTK_TIME=y
CONFIG_PCI_PASID=y
CONFIG_ARM_SMMU_V3_SVA=y''',
			   qemu_arch='aarch64',
			   kernel_path='arch/arm64/boot/Image.gz',
			   # An oops ends the run at once instead of waiting out the timeout.
			   kernel_command_line='console=ttyAMA0 oops=panic panic=-1',
			   extra_qemu_params=['-machine', 'virt,iommu=smmuv3,gic-version=3',
					      '-cpu', 'max,pauth-impdef=on,lpa2=off',
					      '-smp', '2',
					      '-global', 'arm-smmuv3.ssidsize=16',
					      '-global', 'arm-smmuv3.cd2l=off',
					      '-global', 'arm-smmuv3.oas=52',
					      '-device', 'edu',
					      '-device', 'edu,pasid=on,x-pasid-width=16,'
					      'dma_mask=0xffffffffffffffff'])
