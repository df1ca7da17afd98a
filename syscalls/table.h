/* SPDX-License-Identifier: MIT */
/*
 * The syscall table: one row per x86_64 syscall number, declared once in
 * syscalls.def and expanded here into the data every other part uses (the
 * BPF filter, the sentry's dispatcher, `interpose syscalls`, the --trace
 * decoder and the table tests).
 */
#pragma once

/* ext4's own numbers for FS_IOC_SETVERSION (linux/ext4.h is not exported). */
#ifndef EXT4_IOC_SETVERSION
#define EXT4_IOC_SETVERSION _IOW('f', 4, long)
#define EXT4_IOC32_SETVERSION _IOW('f', 4, int)
#endif

/* nsfs: a pid translated between namespaces (Linux 6.11; Debian 12's
 * headers predate them). */
#ifndef NS_GET_PID_FROM_PIDNS
#define NS_GET_PID_FROM_PIDNS _IOR(0xb7, 0x6, int)
#define NS_GET_TGID_FROM_PIDNS _IOR(0xb7, 0x7, int)
#define NS_GET_PID_IN_PIDNS _IOR(0xb7, 0x8, int)
#define NS_GET_TGID_IN_PIDNS _IOR(0xb7, 0x9, int)
#endif

/* The XFS space ioctls, which the VFS serves for every file system by
 * fallocate (linux/falloc.h is not exported; struct space_resv is 48
 * bytes on x86_64). */
#ifndef FS_IOC_RESVSP
#define FS_IOC_RESVSP 0x40305828
#define FS_IOC_UNRESVSP 0x40305829
#define FS_IOC_RESVSP64 0x4030582a
#define FS_IOC_UNRESVSP64 0x4030582b
#define FS_IOC_ZERO_RANGE 0x40305839
#endif

/* ICMP errors with their quoted header (Linux 5.9/5.10; newer than some
 * headers). */
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31
#endif

/* A TCP socket's upper-layer protocol (netinet/tcp.h) and a UDP socket's
 * encapsulation (linux/udp.h), named here so the table needs neither. */
#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif
/* IPV6_ADDRFORM's number (1) is TCP_NODELAY's and IP_TOS's too: the guard
 * traps it only with a level that has this bit, which IPPROTO_IPV6 (41)
 * has and SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP and IPPROTO_UDP do not. */
#define SOL_IPV6_BIT 0x20

/* pwritev2's flag that ignores O_APPEND (Linux 6.9; newer than some
 * headers). */
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020
#endif

#include <stdbool.h>
#include <stddef.h>
#include <sched.h>
#include <stdint.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* clone(2) keeps the exit signal in its low byte, so CLONE_NEWTIME (0x80)
 * cannot be asked for there; unshare(2) takes it. */
#define CLONE_NS_FLAGS                                                                                \
        (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
         CLONE_NEWNET)
#define UNSHARE_NS_FLAGS (CLONE_NS_FLAGS | CLONE_NEWTIME)
/* clone(2) refuses these and CLONE_UNTRACED: a child no tracer takes on
 * would find none for its trapped calls on the ptrace platform (they fail,
 * even its exit), and nothing but a debugger's escape needs it. */
#define CLONE_REFUSED_FLAGS (CLONE_NS_FLAGS | CLONE_UNTRACED)

/* How an argument is decoded by --trace and typed for the handler. */
enum sys_arg_type {
        T_NONE = 0,
        T_INT,        /* signed 32-bit */
        T_UINT,       /* unsigned 32-bit */
        T_LONG,       /* signed 64-bit */
        T_ULONG,      /* unsigned 64-bit */
        T_HEX,        /* flags or masks printed in hex */
        T_PTR,        /* guest address, printed, never read */
        T_STR,        /* guest NUL-terminated string (a path or name) */
        T_FD,         /* file descriptor */
        T_DIRFD,      /* directory fd or AT_FDCWD */
        T_PID,        /* process or thread id */
        T_SIG,        /* signal number */
        T_OFLAGS,     /* open(2) flags */
        T_MODE,       /* file mode, octal */
        T_SIZE,       /* byte count */
        T_CLONEFLAGS, /* clone(2) flags: CLONE_* with the exit signal */
        T_NSFLAGS,    /* unshare(2)/setns(2) flags: CLONE_* only */
        T_ARGV,       /* guest NULL-terminated string vector */
        T__MAX
};

/* What happens when the guest makes the call. */
enum sys_disposition {
        D_KERNEL = 0, /* runs in the kernel at native speed, never trapped */
        D_PATH,       /* path call: runs in the kernel until the gofer mediates it */
        D_TRAP,       /* trapped and decided by the sentry's handler */
        D_DENY,       /* refused with the row's errno; trapped so it is audited */
        D_ENOSYS,     /* not implemented here: ENOSYS and one audit record */
        D_KILL,       /* kills the guest process */
};

/* A guard narrows a row: the call is trapped only when the guard holds and
 * runs in the kernel otherwise. Two conditions are OR-ed. */
enum sys_guard_kind {
        G_NONE = 0,
        G_ANYBIT, /* (arg & value) != 0 */
        G_EQ32,   /* (uint32_t)arg == value (ioctl and fcntl commands) */
        G_NE,     /* arg != value */
        G_GT,     /* arg > value (64 bits: an int with high bits set is trapped too) */
        G_LOW4,   /* (arg & 0xf) == value (a socket type without its flags) */
};

struct sys_guard {
        uint64_t value;
        /* With G_EQ32 only: and argument arg2 has bit mask2 set (0: no
         * second condition). F_SETFL traps only when it asks for O_ASYNC. */
        uint64_t mask2;
        uint8_t kind;
        uint8_t arg;
        uint8_t arg2;
};

/* Conditions per row, OR-ed: the call is trapped when any holds. (ioctl's
 * row has the most, 27. The table is relocated data every process of a
 * session faults in at start: 24 bytes a guard, no more rows of them
 * than needed.) */
#define SYS_GUARDS 28

struct sys_entry;
struct sentry_call;

/* A handler gets the call and its arguments, typed as the table says, and
 * returns the guest-visible result: >= 0 a value, < 0 a negative errno, or
 * one of the SENTRY_* codes from sentry/sentry.h. */
typedef void (*sys_handler_fn)(void);

struct sys_entry {
        const char *name; /* NULL for a number no syscall uses */
        int nr;
        uint8_t nargs;
        uint8_t args[6]; /* enum sys_arg_type */
        uint8_t disposition;
        int err; /* errno for D_DENY */
        struct sys_guard guard[SYS_GUARDS];
        sys_handler_fn handler; /* for D_TRAP rows, and guarded D_KERNEL/D_PATH rows */
        const char *note;
};

#define SYS_TABLE_SIZE 512

/* The table, indexed by syscall number; rows with name == NULL are holes. */
extern const struct sys_entry sys_table[SYS_TABLE_SIZE];

/* Row for nr, or NULL when nr is out of range or a hole. */
const struct sys_entry *sys_lookup(long nr);

/* Row for a syscall name, or NULL. */
const struct sys_entry *sys_lookup_name(const char *name);

/* Printable names for enums, for `interpose syscalls` and the trace. */
const char *sys_disposition_name(int disposition);
const char *sys_arg_type_name(int type);

/* True when the guard (or no guard) says this call traps for these args. */
bool sys_guard_matches(const struct sys_entry *e, const uint64_t args[6]);
