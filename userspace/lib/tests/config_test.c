// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualMachineConfig.Builder rules (REFERENCE-AVF.md), one test per rule.
 */
#include "kselftest_harness.h"
#include "test_util.h"

#define MIB (1ull << 20)

TEST(minimal_config_builds_with_defaults)
{
	struct avf_config *c = tu_config();

	ASSERT_NE(NULL, c);
	EXPECT_STREQ("hello.so", avf_config_payload_binary_name(c));
	EXPECT_STREQ("/opt/apps/hello.zip", avf_config_apk_path(c));
	EXPECT_EQ(AVF_DEBUG_LEVEL_NONE, avf_config_debug_level(c));
	EXPECT_FALSE(avf_config_protected_vm(c));
	EXPECT_EQ(0, avf_config_memory_bytes(c));
	EXPECT_EQ(256 * MIB, AVF_MEMORY_DEFAULT_BYTES);
	EXPECT_EQ(256, avf__config_memory_mib(c));
	EXPECT_EQ(AVF_CPU_TOPOLOGY_ONE_CPU, avf_config_cpu_topology(c));
	EXPECT_EQ(0, avf_config_encrypted_storage_bytes(c));
	EXPECT_FALSE(avf_config_vm_output_captured(c));
	avf_config_free(c);
}

TEST(payload_binary_name_rules)
{
	struct avf_config_builder *b = tu_builder();
	char longname[300];

	ASSERT_NE(NULL, b);
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, "lib/x.so"));
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "'/'"));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, "/x.so"));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, ""));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, NULL));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, ".."));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, "a\nb"));
	/* Printable ASCII only: the module seals the name into the identity. */
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, "caf\xc3\xa9.so"));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, "a\x7f.so"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_payload_binary_name(b, longname));
	EXPECT_EQ(AVF_OK, avf_config_builder_set_payload_binary_name(b, "my_payload.so"));
	avf_config_builder_free(b);
}

TEST(payload_binary_name_required)
{
	struct avf_config_builder *b = NULL;
	struct avf_config *c = (void *)1;

	ASSERT_EQ(AVF_OK, avf_config_builder_new(NULL, &b));
	avf_config_builder_set_apk_path(b, "/a.zip");
	avf_config_builder_set_protected_vm(b, false);
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_build(b, &c));
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "payload binary name"));
	avf_config_builder_free(b);
}

TEST(apk_path_must_be_absolute_and_set)
{
	struct avf_config_builder *b = NULL;
	struct avf_config *c = NULL;

	ASSERT_EQ(AVF_OK, avf_config_builder_new(NULL, &b));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_apk_path(b, "relative.zip"));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_apk_path(b, ""));
	avf_config_builder_set_payload_binary_name(b, "x.so");
	avf_config_builder_set_protected_vm(b, false);
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_build(b, &c));
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "apk path"));
	EXPECT_EQ(AVF_OK, avf_config_builder_set_apk_path(b, "/x/y.zip"));
	EXPECT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	avf_config_free(c);
	avf_config_builder_free(b);
}

TEST(protected_vm_must_be_explicit)
{
	struct avf_config_builder *b = NULL;
	struct avf_config *c = NULL;

	ASSERT_EQ(AVF_OK, avf_config_builder_new(NULL, &b));
	avf_config_builder_set_payload_binary_name(b, "x.so");
	avf_config_builder_set_apk_path(b, "/x.zip");
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_build(b, &c));
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "explicitly"));
	EXPECT_EQ(AVF_OK, avf_config_builder_set_protected_vm(b, true));
	EXPECT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_TRUE(avf_config_protected_vm(c));
	avf_config_free(c);
	avf_config_builder_free(b);
}

TEST(protected_vm_fails_without_capability)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *c = NULL;

	ASSERT_NE(NULL, b);
	/* The module reports non-protected VMs only. */
	avf__config_builder_set_caps(b, AVF_CAPABILITY_NON_PROTECTED_VM);
	avf_config_builder_set_protected_vm(b, true);
	EXPECT_EQ(AVF_E_NOT_CAPABLE, avf_config_builder_build(b, &c));
	EXPECT_EQ(NULL, c);
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "protected"));
	avf_config_builder_set_protected_vm(b, false);
	EXPECT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	avf_config_free(c);
	avf_config_builder_free(b);
}

TEST(debug_level_values)
{
	struct avf_config_builder *b = tu_builder();

	ASSERT_NE(NULL, b);
	EXPECT_EQ(AVF_OK, avf_config_builder_set_debug_level(b, AVF_DEBUG_LEVEL_FULL));
	EXPECT_EQ(AVF_OK, avf_config_builder_set_debug_level(b, AVF_DEBUG_LEVEL_NONE));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_debug_level(b, (enum avf_debug_level)2));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_debug_level(b, (enum avf_debug_level)-1));
	avf_config_builder_free(b);
}

TEST(memory_rounded_up_to_mib)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *c = NULL;
	static const struct {
		uint64_t in, out;
	} cases[] = {
		{ 1, MIB },
		{ MIB - 1, MIB },
		{ MIB, MIB },
		{ MIB + 1, 2 * MIB },
		{ 300 * MIB + 5, 301 * MIB },
		{ 1ull << 40, 1ull << 40 },
	};

	ASSERT_NE(NULL, b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(AVF_OK, avf_config_builder_set_memory_bytes(b, cases[i].in));
		ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
		EXPECT_EQ(cases[i].out, avf_config_memory_bytes(c));
		avf_config_free(c);
	}
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_memory_bytes(b, 0));
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "positive"));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_memory_bytes(b, (1ull << 40) + 1));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_memory_bytes(b, UINT64_MAX));
	avf_config_builder_free(b);
}

TEST(cpu_topology_values)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *c = NULL;

	ASSERT_NE(NULL, b);
	EXPECT_EQ(AVF_OK, avf_config_builder_set_cpu_topology(b, AVF_CPU_TOPOLOGY_MATCH_HOST));
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_EQ(AVF_CPU_TOPOLOGY_MATCH_HOST, avf_config_cpu_topology(c));
	avf_config_free(c);
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_cpu_topology(b, (enum avf_cpu_topology)7));
	avf_config_builder_free(b);
}

TEST(encrypted_storage_rounded_up_to_4k)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *c = NULL;

	ASSERT_NE(NULL, b);
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_encrypted_storage_bytes(b, 0));
	EXPECT_EQ(AVF_OK, avf_config_builder_set_encrypted_storage_bytes(b, 1));
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_EQ(4096, avf_config_encrypted_storage_bytes(c));
	avf_config_free(c);
	EXPECT_EQ(AVF_OK, avf_config_builder_set_encrypted_storage_bytes(b, 8192));
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_EQ(8192, avf_config_encrypted_storage_bytes(c));
	avf_config_free(c);
	EXPECT_EQ(AVF_OK, avf_config_builder_set_encrypted_storage_bytes(b, 8193));
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_EQ(12288, avf_config_encrypted_storage_bytes(c));
	avf_config_free(c);
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_encrypted_storage_bytes(b, UINT64_MAX));
	avf_config_builder_free(b);
}

TEST(output_capture_needs_debug_full)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *c = NULL;

	ASSERT_NE(NULL, b);
	EXPECT_EQ(AVF_OK, avf_config_builder_set_vm_output_captured(b, true));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_build(b, &c));
	EXPECT_NE(NULL, strstr(avf_config_builder_last_error(b), "FULL"));
	avf_config_builder_set_debug_level(b, AVF_DEBUG_LEVEL_FULL);
	EXPECT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_TRUE(avf_config_vm_output_captured(c));
	avf_config_free(c);
	avf_config_builder_free(b);
}

TEST(compatible_only_memory_and_cpus_differ)
{
	struct avf_config_builder *b = tu_builder();
	struct avf_config *base = NULL, *c = NULL;

	ASSERT_NE(NULL, b);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &base));
	EXPECT_TRUE(avf_config_is_compatible_with(base, base));

	avf_config_builder_set_memory_bytes(b, 512 * MIB);
	avf_config_builder_set_cpu_topology(b, AVF_CPU_TOPOLOGY_MATCH_HOST);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_TRUE(avf_config_is_compatible_with(base, c));
	EXPECT_TRUE(avf_config_is_compatible_with(c, base));
	avf_config_free(c);

#define INCOMPATIBLE(setter)                                                   \
	do {                                                                   \
		struct avf_config_builder *x = tu_builder();                   \
		struct avf_config *y = NULL;                                   \
		ASSERT_NE(NULL, x);                                            \
		setter;                                                        \
		ASSERT_EQ(AVF_OK, avf_config_builder_build(x, &y));            \
		EXPECT_FALSE(avf_config_is_compatible_with(base, y));          \
		avf_config_free(y);                                            \
		avf_config_builder_free(x);                                    \
	} while (0)
	INCOMPATIBLE(avf_config_builder_set_payload_binary_name(x, "other.so"));
	INCOMPATIBLE(avf_config_builder_set_apk_path(x, "/other.zip"));
	INCOMPATIBLE(avf_config_builder_set_debug_level(x, AVF_DEBUG_LEVEL_FULL));
	INCOMPATIBLE(avf_config_builder_set_protected_vm(x, true));
	INCOMPATIBLE(avf_config_builder_set_encrypted_storage_bytes(x, 4096));
	EXPECT_FALSE(avf_config_is_compatible_with(base, NULL));
	avf_config_free(base);
	avf_config_builder_free(b);
}

TEST(builder_from_config_round_trips)
{
	struct avf_config *a = tu_config(), *c = NULL;
	struct avf_config_builder *b = NULL;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(AVF_OK, avf_config_builder_from(a, &b));
	avf_config_builder_set_memory_bytes(b, 100 * MIB);
	ASSERT_EQ(AVF_OK, avf_config_builder_build(b, &c));
	EXPECT_TRUE(avf_config_is_compatible_with(a, c));
	EXPECT_EQ(100 * MIB, avf_config_memory_bytes(c));
	avf_config_free(a);
	avf_config_free(c);
	avf_config_builder_free(b);
}

TEST(null_arguments)
{
	struct avf_config *c = NULL;

	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_new(NULL, NULL));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_build(NULL, &c));
	EXPECT_EQ(AVF_E_INVALID, avf_config_builder_set_memory_bytes(NULL, 1));
	EXPECT_EQ(NULL, avf_config_payload_binary_name(NULL));
	avf_config_free(NULL);
	avf_config_builder_free(NULL);
}

TEST(error_names)
{
	for (int e = AVF_OK; e >= AVF_E_REFUSED; e--)
		EXPECT_EQ(NULL, strstr(avf_strerror(e), "unknown libavf"));
	EXPECT_NE(NULL, strstr(avf_strerror(AVF_E_NOT_FOUND), "AVF_E_NOT_FOUND"));
	EXPECT_STREQ("unknown libavf error", avf_strerror(-1000));
	EXPECT_STREQ("SHUTDOWN", avf_stop_reason_name(AVF_VM_STOP_SHUTDOWN));
	EXPECT_STREQ("HANGUP", avf_stop_reason_name(AVF_VM_STOP_HANGUP));
	EXPECT_STREQ("PAYLOAD_CHANGED", avf_vm_error_name(AVF_VM_ERROR_PAYLOAD_CHANGED));
	EXPECT_STREQ("DELETED", avf_status_name(AVF_VM_STATUS_DELETED));
	/* Public values match the UAPI ones. */
	EXPECT_EQ(AVF_STATUS_RUNNING, AVF_VM_STATUS_RUNNING);
	EXPECT_EQ(AVF_CAP_PROTECTED_VM, AVF_CAPABILITY_PROTECTED_VM);
	EXPECT_EQ(AVF_STOP_CRASH, AVF_VM_STOP_CRASH);
}

TEST_HARNESS_MAIN
