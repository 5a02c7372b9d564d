/*
 * kernel/userboot.h - starting init, the only process the kernel starts itself.
 */
#ifndef KERNEL_USERBOOT_H
#define KERNEL_USERBOOT_H

/*
 * Copy the embedded boot image into a memobj, load "init" from it with the
 * kernel's ELF loader, give init a handle to the boot image and `args` (the
 * bootargs, split at spaces) as argv, and start its first thread. Returns init's
 * process (with a reference), or panics: without init there is nothing to run.
 */
struct process *userboot_start_init(const char *args);

#endif
