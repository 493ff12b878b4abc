# The devices of the project's qemu-system-aarch64 (harness/qemu.sh passes it to
# configure with --without-default-devices): the virt board, which selects the
# GICv3 and its ITS, the SMMUv3 and the PCIe host bridge, and the edu test device.
CONFIG_ARM_VIRT=y
CONFIG_EDU=y
