# SPDX-License-Identifier: GPL-2.0
# kunit.py --qemu_config for the 7.3 series' test machine, on the project's
# QEMU (qemu/, harness/qemu.sh): the make-test machine of
# harness/kunit/qemu_virt_smmuv3.py (virt, GICv3 ITS, SMMUv3 in front of the
# PCIe root complex, an edu without PASIDs), whose SMMUv3 here has
# substreams, plus a second edu with a PASID capability (an RCiEP that tags
# its DMA with a PASID), so DMA and MSIs from real PCI devices go through
# the SMMU at their RIDs and at PASIDs.
#
# ssidsize=16 with cd2l=off and x-pasid-width=16: the SMMU offers more
# substreams than a linear CD table holds and no 2-level tables, the case
# the series' first patch fixes. oas=52 and lpa2=off: arm-smmu-v3 offers
# SVA only when the SMMU's OAS covers the CPU's PARange and the CPU does
# not use LPA2 (qemu/README.md).
import dataclasses
import importlib.util
import os


def _harness_machine():
	"""QEMU_ARCH of the harness's machine, loaded the way kunit.py loads this
	file (a module beside it, for the relative import of qemu_config)."""
	path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
			    'harness', 'kunit', 'qemu_virt_smmuv3.py')
	spec = importlib.util.spec_from_file_location(
		os.path.join(os.path.dirname(__name__), 'harness_' + os.path.basename(path)), path)
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return module.QEMU_ARCH


_BASE = _harness_machine()
_PARAMS = list(_BASE.extra_qemu_params)
_PARAMS[_PARAMS.index('-cpu') + 1] += ',lpa2=off'

QEMU_ARCH = dataclasses.replace(
	_BASE,
	# Without PCI_PASID arm-smmu-v3 never enables the edu's PASID capability.
	kconfig=_BASE.kconfig + '''
CONFIG_PCI_PASID=y
CONFIG_ARM_SMMU_V3_SVA=y''',
	extra_qemu_params=_PARAMS + ['-global', 'arm-smmuv3.ssidsize=16',
				     '-global', 'arm-smmuv3.cd2l=off',
				     '-global', 'arm-smmuv3.oas=52',
				     '-device', 'edu,pasid=on,x-pasid-width=16,'
				     'dma_mask=0xffffffffffffffff'])
