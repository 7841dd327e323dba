/* Puts the guest's kernel, initrd and device tree in RAM and points the boot vCPU at them. */
#ifndef LKVM_BOOT_H
#define LKVM_BOOT_H

struct kvm;

/* Kernel command line defaults that --nodefaults leaves out. */
#define BOOT_DEFAULT_PARAMS "console=ttyS0 earlycon"
/* With --console virtio: the console is hvc0, early messages still go to the UART. */
#define BOOT_DEFAULT_PARAMS_VIRTIO "console=hvc0 earlycon"
/* With no initrd: the root file system, from -d DIR (virtio-9p, tag /dev/root) or the first disk. */
#define BOOT_ROOT_PARAMS_9P "root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L rw"
#define BOOT_ROOT_PARAMS_DISK "root=/dev/vda rw"
/* After BOOT_ROOT_PARAMS_9P with -n mode=user, unless --no-dhcp: kvmtool's rootfs mode. */
#define BOOT_ROOT_PARAMS_DHCP "ip=dhcp"

int boot__setup(struct kvm *kvm);

#endif
