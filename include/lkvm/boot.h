/* Puts the guest's kernel, initrd and device tree in RAM and points the boot vCPU at them. */
#ifndef LKVM_BOOT_H
#define LKVM_BOOT_H

struct kvm;

/* Kernel command line defaults that --nodefaults leaves out. */
#define BOOT_DEFAULT_PARAMS "console=ttyS0"
/* With --console virtio: the console is hvc0 (early messages, if any, go to the UART). */
#define BOOT_DEFAULT_PARAMS_VIRTIO "console=hvc0"
/*
 * Also a default, unless -p says quiet: earlycon starts before quiet is read and replays the
 * boot log up to there, some 400 bytes that quiet is meant to hide, each one a trapped UART
 * write. Without quiet the same lines are printed anyway; earlycon only prints them sooner,
 * so that a kernel that dies before its console driver starts still says why.
 */
#define BOOT_EARLYCON "earlycon"
/* With no initrd: the root file system, from -d DIR (virtio-9p, tag /dev/root) or the first disk. */
#define BOOT_ROOT_PARAMS_9P "root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L rw"
#define BOOT_ROOT_PARAMS_DISK "root=/dev/vda rw"
/* After BOOT_ROOT_PARAMS_9P with -n mode=user, unless --no-dhcp: kvmtool's rootfs mode. */
#define BOOT_ROOT_PARAMS_DHCP "ip=dhcp"

int boot__setup(struct kvm *kvm);

#endif
