# SPDX-License-Identifier: GPL-2.0
# kunit.py --qemu_config for the test machine: QEMU virt with a GICv3 ITS and an
# emulated SMMUv3 in front of the PCIe root complex, and QEMU's edu device
# (1234:11e8) on that bus, so DMA and MSIs from a real PCI device go through
# the SMMU. The kconfig below is what the machine needs, not what is tested.
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
CONFIG_PRINTK_TIME=y''',
			   qemu_arch='aarch64',
			   kernel_path='arch/arm64/boot/Image.gz',
			   # An oops ends the run at once instead of waiting out the timeout.
			   kernel_command_line='console=ttyAMA0 oops=panic panic=-1',
			   extra_qemu_params=['-machine', 'virt,iommu=smmuv3,gic-version=3',
					      '-cpu', 'max,pauth-impdef=on',
					      '-smp', '2',
					      '-device', 'edu'])
