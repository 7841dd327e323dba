/* The device options of `lkvm run`: -d FILE[,ro][,direct], -d DIR, --9p DIR[,TAG], -n. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/devspec.h"
#include "suites.h"

static struct lkvm_config cfg;
static const char *why;

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	why = NULL;
}

static void teardown(void)
{
	devspec__free(&cfg);
}

START_TEST(disk_file_and_flags)
{
	char *img = temp_file("0123456789abcdef", 16), spec[256];

	ck_assert_int_eq(devspec__disk_or_dir(&cfg, img, &why), 0);
	snprintf(spec, sizeof(spec), "%s,ro,direct", img);
	ck_assert_int_eq(devspec__disk_or_dir(&cfg, spec, &why), 0);
	ck_assert_uint_eq(cfg.nr_disks, 2);
	ck_assert_str_eq(cfg.disks[0].path, img);
	ck_assert(!cfg.disks[0].readonly && !cfg.disks[0].direct);
	ck_assert_str_eq(cfg.disks[1].path, img);
	ck_assert(cfg.disks[1].readonly && cfg.disks[1].direct);
	/* The option string itself is untouched: usage errors quote it whole. */
	ck_assert(strstr(spec, ",ro,direct"));
	unlink(img);
	free(img);
}
END_TEST

START_TEST(disk_errors)
{
	char *img = temp_file("x", 1), spec[256];

	ck_assert_int_ne(devspec__disk_or_dir(&cfg, "/nonexistent/disk.img", &why), 0);
	ck_assert_str_eq(why, "no such file or directory");
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, "", &why), 0);
	snprintf(spec, sizeof(spec), "%s,rw", img);
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, spec, &why), 0);
	ck_assert(strstr(why, "unknown disk option"));
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, "/dev/null", &why), 0);
	ck_assert(strstr(why, "not a regular file"));
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, "/tmp,ro", &why), 0);
	ck_assert(strstr(why, "directory takes no options"));
	ck_assert_uint_eq(cfg.nr_disks, 0);
	ck_assert_uint_eq(cfg.nr_shares, 0);
	for (int i = 0; i < MAX_DISKS; i++)
		ck_assert_int_eq(devspec__disk_or_dir(&cfg, img, &why), 0);
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, img, &why), 0);
	ck_assert(strstr(why, "too many disks"));
	unlink(img);
	free(img);
}
END_TEST

START_TEST(dir_is_the_9p_root)
{
	ck_assert_int_eq(devspec__disk_or_dir(&cfg, "/tmp", &why), 0);
	ck_assert_uint_eq(cfg.nr_disks, 0);
	ck_assert_uint_eq(cfg.nr_shares, 1);
	ck_assert_str_eq(cfg.shares[0].path, "/tmp");
	ck_assert_str_eq(cfg.shares[0].tag, SHARE_ROOT_TAG);
	/* Only one root. */
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, "/", &why), 0);
	ck_assert(strstr(why, "tag"));
}
END_TEST

START_TEST(share_tags)
{
	char top[] = "/tmp/lkvm-unit-devspec-XXXXXX", spec[128];

	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(spec, sizeof(spec), "%s/a", top);
	ck_assert_int_eq(mkdir(spec, 0755), 0);
	snprintf(spec, sizeof(spec), "%s/b", top);
	ck_assert_int_eq(mkdir(spec, 0755), 0);
	snprintf(spec, sizeof(spec), "%s/a/", top);
	ck_assert_int_eq(devspec__share(&cfg, spec, &why), 0);
	ck_assert_str_eq(cfg.shares[0].tag, "a");
	snprintf(spec, sizeof(spec), "%s/b,data", top);
	ck_assert_int_eq(devspec__share(&cfg, spec, &why), 0);
	ck_assert_str_eq(cfg.shares[1].tag, "data");
	ck_assert_ptr_nonnull(strstr(cfg.shares[1].path, "/b"));
	ck_assert_int_ne(devspec__share(&cfg, "/tmp,data", &why), 0);
	ck_assert(strstr(why, "another share"));
	ck_assert_int_ne(devspec__share(&cfg, "/tmp,a,b", &why), 0);
	ck_assert_int_ne(devspec__share(&cfg, "/tmp,", &why), 0);
	ck_assert_int_ne(devspec__share(&cfg, "/etc/passwd,x", &why), 0);
	ck_assert_str_eq(why, "not a directory");
	ck_assert_int_ne(devspec__share(&cfg, "/tmp,"
		"0123456789012345678901234567890123456789012345678901234567890123456789", &why), 0);
	ck_assert_uint_eq(cfg.nr_shares, 2);
	devspec__free(&cfg);
	ck_assert_int_eq(devspec__share(&cfg, "/", &why), 0);
	ck_assert_str_eq(cfg.shares[0].tag, "root");
	devspec__free(&cfg);
	snprintf(spec, sizeof(spec), "%s/a", top);
	rmdir(spec);
	snprintf(spec, sizeof(spec), "%s/b", top);
	rmdir(spec);
	rmdir(top);
}
END_TEST

/* Shares may not overlap: the same directory twice, or one inside another, either way round. */
START_TEST(shares_do_not_overlap)
{
	char top[] = "/tmp/lkvm-unit-devspec-XXXXXX", spec[128], sub[96], link[96];

	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(sub, sizeof(sub), "%s/sub", top);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(link, sizeof(link), "%s-link", top);
	ck_assert_int_eq(symlink(sub, link), 0);
	snprintf(spec, sizeof(spec), "%s,one", sub);
	ck_assert_int_eq(devspec__share(&cfg, spec, &why), 0);
	snprintf(spec, sizeof(spec), "%s,two", sub);		/* the same, another tag */
	ck_assert_int_ne(devspec__share(&cfg, spec, &why), 0);
	ck_assert_str_eq(why, "overlaps another share (the same directory, or one inside the other)");
	snprintf(spec, sizeof(spec), "%s,two", link);		/* the same, by another path */
	ck_assert_int_ne(devspec__share(&cfg, spec, &why), 0);
	snprintf(spec, sizeof(spec), "%s,two", top);		/* holding it */
	ck_assert_int_ne(devspec__share(&cfg, spec, &why), 0);
	ck_assert_int_ne(devspec__disk_or_dir(&cfg, top, &why), 0);
	ck_assert(strstr(why, "overlaps"));
	ck_assert_int_ne(devspec__share(&cfg, "/tmp,two", &why), 0);
	ck_assert_uint_eq(cfg.nr_shares, 1);
	/* Inside an earlier one (-d DIR, then --9p DIR/sub). */
	devspec__free(&cfg);
	ck_assert_int_eq(devspec__disk_or_dir(&cfg, top, &why), 0);
	ck_assert_int_ne(devspec__share(&cfg, sub, &why), 0);
	ck_assert(strstr(why, "overlaps"));
	/* Side by side is fine; a path with ".." is seen for what it is. */
	devspec__free(&cfg);
	ck_assert_int_eq(devspec__share(&cfg, sub, &why), 0);
	snprintf(spec, sizeof(spec), "%s/other", top);
	ck_assert_int_eq(mkdir(spec, 0755), 0);
	ck_assert_int_eq(devspec__share(&cfg, spec, &why), 0);
	snprintf(spec, sizeof(spec), "%s/../other/.,third", sub);
	ck_assert_int_ne(devspec__share(&cfg, spec, &why), 0);
	ck_assert_uint_eq(cfg.nr_shares, 2);
	devspec__free(&cfg);
	snprintf(spec, sizeof(spec), "%s/other", top);
	rmdir(spec);
	unlink(link);
	rmdir(sub);
	rmdir(top);
}
END_TEST

START_TEST(net_specs)
{
	ck_assert_int_eq(devspec__net(&cfg, "mode=tap", &why), 0);
	ck_assert_int_eq(devspec__net(&cfg, "mode=tap,tapif=lkvm0,guest_mac=02:aa:bb:cc:dd:0e", &why), 0);
	ck_assert_uint_eq(cfg.nr_nets, 2);
	ck_assert_int_eq(cfg.nets[0].mode, NET_TAP);
	ck_assert_ptr_null(cfg.nets[0].tapif);
	ck_assert_uint_eq(cfg.nets[0].guest_mac[0], 0x02);
	ck_assert_uint_eq(cfg.nets[0].guest_mac[5], 0);
	ck_assert_str_eq(cfg.nets[1].tapif, "lkvm0");
	ck_assert_uint_eq(cfg.nets[1].guest_mac[1], 0xaa);
	ck_assert_uint_eq(cfg.nets[1].guest_mac[5], 0x0e);
	/* mode=none adds no device. */
	ck_assert_int_eq(devspec__net(&cfg, "mode=none", &why), 0);
	ck_assert_uint_eq(cfg.nr_nets, 2);
}
END_TEST

/* mode=user: kvmtool's 192.168.33.0/24 (guest .15, host .1) unless given, in any field order. */
START_TEST(net_user_specs)
{
	ck_assert_int_eq(devspec__net(&cfg, "mode=user", &why), 0);
	ck_assert_int_eq(cfg.nets[0].mode, NET_USER);
	ck_assert_uint_eq(cfg.nets[0].guest_ip, 0xc0a8210f);
	ck_assert_uint_eq(cfg.nets[0].host_ip, 0xc0a82101);
	ck_assert_uint_eq(cfg.nets[0].guest_mac[5], 0);
	devspec__free(&cfg);
	ck_assert_int_eq(devspec__net(&cfg, "mode=tap", &why), 0);
	ck_assert_int_eq(devspec__net(&cfg, "host_ip=10.1.2.254,mode=user,guest_ip=10.1.2.3,"
				      "guest_mac=02:00:00:00:00:07", &why), 0);
	ck_assert_int_eq(cfg.nets[1].mode, NET_USER);
	ck_assert_uint_eq(cfg.nets[1].guest_ip, 0x0a010203);
	ck_assert_uint_eq(cfg.nets[1].host_ip, 0x0a0102fe);
	ck_assert_uint_eq(cfg.nets[1].guest_mac[5], 7);
}
END_TEST

START_TEST(net_errors)
{
	static const char *const bad[] = {
		"", "tap", "mode=foo", "tapif=x", "mode=tap,tapif=", "mode=tap,tapif=a/b",
		"mode=tap,tapif=0123456789abcdef", "mode=tap,guest_mac=01:00:00:00:00:01",
		"mode=tap,guest_mac=02:00:00:00:00", "mode=tap,guest_mac=02:00:00:00:00:0100",
		"mode=tap,guest_mac=zz:00:00:00:00:01", "mode=tap,script=/bin/true",
		/* mode=user: addresses, and what is for taps only */
		"mode=user,tapif=tap0", "mode=tap,host_ip=192.168.33.1", "mode=user,guest_ip=",
		"mode=user,guest_ip=192.168.33", "mode=user,guest_ip=192.168.33.256",
		"mode=user,guest_ip=192.168.33.15x", "mode=user,guest_ip=-1.2.3.4",
		"mode=user,guest_ip=1.2.3.4.5", "mode=user,host_ip=192.168.34.1",
		"mode=user,guest_ip=192.168.33.1", "mode=user,guest_ip=192.168.33.0",
		"mode=user,host_ip=192.168.33.255", "mode=user,guest_ip= 192.168.33.2",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(devspec__net(&cfg, bad[i], &why) != 0, "accepted '%s'", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert_uint_eq(cfg.nr_nets, 0);
	/* One user network, as kvmtool allows. */
	ck_assert_int_eq(devspec__net(&cfg, "mode=user", &why), 0);
	ck_assert_int_ne(devspec__net(&cfg, "mode=user,guest_ip=192.168.33.16", &why), 0);
	ck_assert_str_eq(why, "only one mode=user network device (as kvmtool)");
	ck_assert_uint_eq(cfg.nr_nets, 1);
}
END_TEST

Suite *devspec_suite(void)
{
	Suite *s = suite_create("devspec");
	TCase *tc = tcase_create("devspec");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, disk_file_and_flags);
	tcase_add_test(tc, disk_errors);
	tcase_add_test(tc, dir_is_the_9p_root);
	tcase_add_test(tc, share_tags);
	tcase_add_test(tc, shares_do_not_overlap);
	tcase_add_test(tc, net_specs);
	tcase_add_test(tc, net_user_specs);
	tcase_add_test(tc, net_errors);
	suite_add_tcase(s, tc);
	return s;
}
