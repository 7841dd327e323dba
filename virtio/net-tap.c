/*
 * virtio-net's tap backend, -n mode=tap[,tapif=NAME]: lkvm only creates (or attaches to) the
 * tap; its host side (addresses, link up, a bridge) is the user's, as with kvmtool without a
 * setup script.
 */
#include "lkvm/util.h"
#include "lkvm/virtio-net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int net_tap__open(const struct net_spec *spec, char ifname[IFNAMSIZ])
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr_len = sizeof(struct virtio_net_hdr_v1), fd, err;
	char opt[32];
	const char *step;

	snprintf(opt, sizeof(opt), spec->tapif ? "-n tapif=%s" : "-n mode=tap",
		 spec->tapif ? spec->tapif : "");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: cannot open /dev/net/tun: %s", opt, strerror(errno));
		return err;
	}
	if (spec->tapif)
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", spec->tapif);
	step = "cannot create the tap device";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* The 12-byte header of VIRTIO_F_VERSION_1, which is all the core speaks. */
	step = "cannot set the tap's header size";
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		goto fail;
	/* No offload was offered to the guest: the tap must hand over complete frames. */
	step = "cannot turn the tap's offloads off";
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		goto fail;
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;

fail:
	err = -errno;
	pr_err("%s: %s: %s%s", opt, step, strerror(errno),
	       errno == EINVAL && spec->tapif ? " (is it an interface that is not a tap?)" :
	       errno == EBUSY ? " (another program has it open)" : "");
	close(fd);
	return err;
}
