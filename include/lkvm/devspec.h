/*
 * The device options of `lkvm run` as kvmtool spells them: -d/--disk, --9p and -n/--network.
 * Each parser fills one spec or says why it cannot (a static string for the usage error).
 */
#ifndef LKVM_DEVSPEC_H
#define LKVM_DEVSPEC_H

#include "lkvm/config.h"

/* -d FILE[,ro][,direct], or -d DIR: a disk, or the root file system shared over 9p. */
int devspec__disk_or_dir(struct lkvm_config *cfg, const char *val, const char **why);
/* --9p DIR[,TAG]: TAG defaults to DIR's last component. */
int devspec__share(struct lkvm_config *cfg, const char *val, const char **why);
/*
 * -n mode=tap[,tapif=NAME][,guest_mac=MAC], -n mode=user[,guest_ip=IP][,host_ip=IP][,guest_mac=MAC]
 * (one at most) or -n mode=none (which adds nothing).
 */
int devspec__net(struct lkvm_config *cfg, const char *val, const char **why);
/* Frees what the parsers kept in cfg. */
void devspec__free(struct lkvm_config *cfg);

/* Tags and interface names that the devices can carry. */
#define SHARE_TAG_MAX	64
#define NET_IFNAME_MAX	15
/* kvmtool's user network: 192.168.33.0/24, the guest .15, the host .1. */
#define NET_USER_GUEST_IP	0xc0a8210f
#define NET_USER_HOST_IP	0xc0a82101

#endif
