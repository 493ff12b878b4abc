/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names that the iommufd selftests of the 6.12.y tree use but that its own
 * headers lack: stable took newer test code (IOMMU_GET_HW_INFO's input type
 * from v6.17, the PASID-capable mock device from v6.15) without the UAPI and
 * mock driver changes it tests. selftests.py passes this with -include only
 * for the parts the tree's headers miss (COMPAT_HW_INFO_INPUT_TYPE,
 * COMPAT_MOCK_PASID), so that the tests build unchanged.
 *
 * The values are upstream's. The kernel under test does not implement them:
 * it rejects IOMMU_GET_HW_INFO with flags != 0 and a mock device with
 * MOCK_FLAGS_DEVICE_PASID (-EOPNOTSUPP, -EINVAL), and the cases that use
 * them fail; selftests.py names those failures.
 */
#ifndef IOMMUFD_SELFTEST_COMPAT_H
#define IOMMUFD_SELFTEST_COMPAT_H

#ifdef COMPAT_HW_INFO_INPUT_TYPE
/* Upstream: union { __u32 in_data_type; __u32 out_data_type; }; same offset. */
#define in_data_type			out_data_type
#define IOMMU_HW_INFO_TYPE_DEFAULT	0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	(1 << 0)
#endif

#ifdef COMPAT_MOCK_PASID
#define MOCK_FLAGS_DEVICE_PASID		(1 << 2)
#define MOCK_PASID_WIDTH		20
#endif

#endif /* IOMMUFD_SELFTEST_COMPAT_H */
