/* SPDX-License-Identifier: MIT */
/*
 * Prototypes of the sentry's syscall handlers, one file per family. A
 * handler takes the call and the arguments typed as its table row says and
 * returns the guest-visible result (>= 0, or a negative errno), or one of
 * the SENTRY_* codes of sentry/sentry.h.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct sentry_call;

/* Generic handlers named by the table (H_REFUSE, H_PID0): called with the
 * call only; they read the arguments from the event. */
long sys_refuse(struct sentry_call *c);
long sys_pid0(struct sentry_call *c);
long sys_sched_affinity(struct sentry_call *c, int pid, unsigned len, uint64_t mask);
long sys_unknown(struct sentry_call *c);

/* proc.c: signals and other processes, own tree only */
long sys_kill(struct sentry_call *c, int pid, int sig);
long sys_rt_sigaction(struct sentry_call *c, int sig, uint64_t act, uint64_t oldact, uint64_t size);
long sys_tkill(struct sentry_call *c, int tid, int sig);
long sys_tgkill(struct sentry_call *c, int tgid, int tid, int sig);
long sys_rt_sigqueueinfo(struct sentry_call *c, int pid, int sig, uint64_t info);
long sys_rt_tgsigqueueinfo(struct sentry_call *c, int tgid, int tid, int sig, uint64_t info);
long sys_pidfd_open(struct sentry_call *c, int pid, uint64_t flags);
long sys_pidfd_send_signal(struct sentry_call *c, int pidfd, int sig, uint64_t info, uint64_t flags);
long sys_pidfd_getfd(struct sentry_call *c, int pidfd, int targetfd, uint64_t flags);
long sys_process_madvise(struct sentry_call *c, int pidfd, uint64_t iov, uint64_t vlen, int advice,
                         uint64_t flags);
long sys_process_mrelease(struct sentry_call *c, int pidfd, uint64_t flags);
long sys_kcmp(struct sentry_call *c, int pid1, int pid2, int type, uint64_t idx1, uint64_t idx2);
long sys_setpriority(struct sentry_call *c, int which, int who, int prio);
long sys_getpriority(struct sentry_call *c, int which, int who);
long sys_ioprio_set(struct sentry_call *c, int which, int who, int ioprio);
long sys_ioprio_get(struct sentry_call *c, int which, int who);
long sys_fcntl(struct sentry_call *c, int fd, int cmd, uint64_t arg);
/* F_SETFL that clears O_APPEND: an append-only fd may then overwrite what
 * its file holds, which needs the write right on the object. copy is the
 * sentry's copy of the caller's fd. 0, or -errno (decided; -ESRCH: the
 * caller is gone). */
long sys_fd_may_clear_append(struct sentry_call *c, int fd, int copy);
/* pwritev2 with RWF_NOAPPEND (the only calls trapped): on an O_APPEND fd,
 * as clearing O_APPEND; made on the sentry's copies. */
long sys_pwritev2(struct sentry_call *c, int fd, uint64_t vec, uint64_t vlen, long off, uint64_t off_hi,
                  uint64_t flags);
long sys_setpgid(struct sentry_call *c, int pid, int pgid);
long sys_ioctl(struct sentry_call *c, int fd, uint64_t cmd, uint64_t arg);
long sys_capget(struct sentry_call *c, uint64_t hdr, uint64_t data);
long sys_open(struct sentry_call *c, uint64_t path, int flags, unsigned mode);
long sys_openat(struct sentry_call *c, int dirfd, uint64_t path, int flags, unsigned mode);
long sys_creat(struct sentry_call *c, uint64_t path, unsigned mode);
long sys_stat(struct sentry_call *c, uint64_t path, uint64_t buf);
long sys_lstat(struct sentry_call *c, uint64_t path, uint64_t buf);
long sys_newfstatat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t buf, uint64_t flags);
long sys_statx(struct sentry_call *c, int dirfd, uint64_t path, uint64_t flags, uint64_t mask, uint64_t buf);
long sys_access(struct sentry_call *c, uint64_t path, int mode);
long sys_faccessat(struct sentry_call *c, int dirfd, uint64_t path, int mode);
long sys_faccessat2(struct sentry_call *c, int dirfd, uint64_t path, int mode, uint64_t flags);
long sys_readlink(struct sentry_call *c, uint64_t path, uint64_t buf, int size);
long sys_readlinkat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t buf, int size);
long sys_mkdir(struct sentry_call *c, uint64_t path, unsigned mode);
long sys_mkdirat(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode);
long sys_mknod(struct sentry_call *c, uint64_t path, unsigned mode, uint64_t dev);
long sys_mknodat(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode, uint64_t dev);
long sys_unlink(struct sentry_call *c, uint64_t path);
long sys_rmdir(struct sentry_call *c, uint64_t path);
long sys_unlinkat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t flags);
long sys_rename(struct sentry_call *c, uint64_t oldp, uint64_t newp);
long sys_renameat(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp);
long sys_renameat2(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp,
                   uint64_t flags);
long sys_link(struct sentry_call *c, uint64_t oldp, uint64_t newp);
long sys_linkat(struct sentry_call *c, int olddir, uint64_t oldp, int newdir, uint64_t newp, uint64_t flags);
long sys_symlink(struct sentry_call *c, uint64_t target, uint64_t linkpath);
long sys_symlinkat(struct sentry_call *c, uint64_t target, int newdir, uint64_t linkpath);
long sys_chmod(struct sentry_call *c, uint64_t path, unsigned mode);
long sys_fchmodat(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode);
long sys_fchmodat2(struct sentry_call *c, int dirfd, uint64_t path, unsigned mode, uint64_t flags);
long sys_chown(struct sentry_call *c, uint64_t path, unsigned uid, unsigned gid);
long sys_lchown(struct sentry_call *c, uint64_t path, unsigned uid, unsigned gid);
long sys_fchownat(struct sentry_call *c, int dirfd, uint64_t path, unsigned uid, unsigned gid,
                  uint64_t flags);
long sys_truncate(struct sentry_call *c, uint64_t path, long length);
long sys_chdir(struct sentry_call *c, uint64_t path);
long sys_statfs(struct sentry_call *c, uint64_t path, uint64_t buf);
long sys_getxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size);
long sys_lgetxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size);
long sys_listxattr(struct sentry_call *c, uint64_t path, uint64_t list, uint64_t size);
long sys_llistxattr(struct sentry_call *c, uint64_t path, uint64_t list, uint64_t size);
long sys_setxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size,
                  int flags);
long sys_lsetxattr(struct sentry_call *c, uint64_t path, uint64_t name, uint64_t value, uint64_t size,
                   int flags);
long sys_removexattr(struct sentry_call *c, uint64_t path, uint64_t name);
long sys_lremovexattr(struct sentry_call *c, uint64_t path, uint64_t name);
long sys_utimensat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t times, uint64_t flags);
long sys_utimes(struct sentry_call *c, uint64_t path, uint64_t times);
long sys_futimesat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t times);
long sys_utime(struct sentry_call *c, uint64_t path, uint64_t times);
long sys_inotify_add_watch(struct sentry_call *c, int fd, uint64_t path, uint64_t mask);
long sys_path_enosys(struct sentry_call *c);
long sys_fchdir(struct sentry_call *c, int fd);
long sys_connect(struct sentry_call *c, int fd, uint64_t addr, int addrlen);
long sys_bind(struct sentry_call *c, int fd, uint64_t addr, int addrlen);
long sys_getsockname(struct sentry_call *c, int fd, uint64_t addr, uint64_t lenp);
long sys_getpeername(struct sentry_call *c, int fd, uint64_t addr, uint64_t lenp);
long sys_listen(struct sentry_call *c, int fd, int backlog);
long sys_sendmsg(struct sentry_call *c, int fd, uint64_t msg, int flags);
long sys_sendmmsg(struct sentry_call *c, int fd, uint64_t vec, unsigned vlen, int flags);
long sys_sendto(struct sentry_call *c, int fd, uint64_t buf, uint64_t len, int flags, uint64_t addrp,
                int addrlen);

/* syscalls/net.c: the network broker's decisions. */
struct sockaddr_storage;
struct sockaddr_un;
struct net_addr;
long sys_socket(struct sentry_call *c, int domain, int type, int protocol);
long sys_socketpair(struct sentry_call *c, int domain, int type, int protocol, uint64_t sv);
/* connect or sendto to an IP address: 0 to go on, -errno (audited) */
long net_judge_connect(struct sentry_call *c, int sock, struct sockaddr_storage *ss, unsigned len);
/* bind to an IP address, which it may narrow to loopback: 0 or -errno */
long net_judge_bind(struct sentry_call *c, int sock, struct sockaddr_storage *ss, unsigned len);
/* listen on an inet socket that has a port already: refused (EADDRNOTAVAIL,
 * decided) when its address is every address, which a connect dissolved
 * with AF_UNSPEC leaves and a bind of the sentry's never does. 0 if fine. */
long net_judge_listen(struct sentry_call *c, int sock, struct sockaddr_storage *ss, unsigned len);
/* Is sock bound to the loopback device (an IPv6 server on every address)? */
bool net_on_loopback_device(int sock);
/* an abstract unix name (plen bytes of sun_path, the leading NUL too) */
long net_judge_abstract(struct sentry_call *c, const struct sockaddr_un *ua, size_t plen, bool is_bind);
/* May the guest set, remove or lock a socket filter on sock (not on a
 * datagram socket the network policy filters replies for)? */
bool net_may_filter(const struct sentry_call *c, int sock);
/* May the guest join multicast groups (only under --net=host)? */
bool net_may_join(const struct sentry_call *c);
/* The ELF interpreter (PT_INTERP) the kernel would load for the program
 * open at fd, read as the kernel reads it, into out ("" when none or not
 * an ELF). -ENOEXEC for what the kernel refuses or a 32-bit ELF. */
int sys_elf_interp(int fd, char *out, size_t cap);
/* after a bind (or autobind): remember the guest's own loopback port or
 * abstract name */
void net_note_bound(int sock);
bool net_own_abstract(const void *sun_path, size_t len);
void net_note_resolved(const char *name, const struct net_addr *a);
/* Before the sentry confines itself: the socket the broker asks which
 * sockets hold a port through, and the host's own addresses (guarded like
 * loopback). */
void net_prepare(void);
/* path.c: what it must learn before the sentry confines itself. */
void sys_path_prepare(void);
/* ioctl FS_IOC_SETFLAGS / FS_IOC_FSSETXATTR: the write right on the fd's
 * object, made on the sentry's copy with its copy of the argument. */
long sys_fd_setattr_ioctl(struct sentry_call *c, int fd, unsigned op, uint64_t arg);
/* A trapped call from c's thread: a chdir it made before is done (cwd
 * cache), and the cwd it left is checked: 0, or SENTRY_KILL (decided). */
long sys_path_call_seen(struct sentry_call *c);
/* Forget every thread's cached cwd (an exec may give a tid another cwd). */
void sys_path_forget_cwds(void);
long sys_openat2(struct sentry_call *c, int dirfd, uint64_t path, uint64_t how, uint64_t size);
long sys_getdents64(struct sentry_call *c, int fd, uint64_t buf, unsigned count);
long sys_fchmod(struct sentry_call *c, int fd, unsigned mode);
long sys_fchown(struct sentry_call *c, int fd, unsigned uid, unsigned gid);
long sys_ftruncate(struct sentry_call *c, int fd, long length);
long sys_fsetxattr(struct sentry_call *c, int fd, uint64_t name, uint64_t value, uint64_t size,
                   uint64_t flags);
long sys_fremovexattr(struct sentry_call *c, int fd, uint64_t name);
long sys_mmap(struct sentry_call *c, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, int fd,
              uint64_t off);
/* With a policy: the exec right on what execve(at) of path (as read from
 * the guest once, by the caller) would run (the file,
 * its #! or ELF interpreter), found as the guest sees it (its /proc/self,
 * its /tmp). 0, or -errno (EACCES, audited). *ran is set to the object
 * that will be the process's executable (the file, or a script's
 * interpreter); st_ino 0 if unknown; *elf_ld to its ELF interpreter (PT_INTERP),
 * which the kernel maps beside it, st_ino 0 if none. */
struct stat;
int sys_path_check_exec(struct sentry_call *c, int dirfd, const char *path, int atflags, struct stat *ran,
                        struct stat *elf_ld);
long sys_shmget(struct sentry_call *c, int key, uint64_t size, uint64_t flags);
long sys_semget(struct sentry_call *c, int key, int nsems, uint64_t flags);
long sys_msgget(struct sentry_call *c, int key, uint64_t flags);
long sys_shm_id(struct sentry_call *c, int id);
long sys_sem_id(struct sentry_call *c, int id);
long sys_msg_id(struct sentry_call *c, int id);
long sys_shmctl(struct sentry_call *c, int id, int cmd, uint64_t buf);
long sys_semctl(struct sentry_call *c, int id, int num, int cmd, uint64_t arg);
long sys_msgctl(struct sentry_call *c, int id, int cmd, uint64_t buf);
long sys_cpuclock(struct sentry_call *c, int clock);
long sys_sockopt(struct sentry_call *c, int fd, int level, int name, uint64_t val, uint64_t len);

/* ptrace.c: tracing and cross-process memory, own tree only */
long sys_ptrace(struct sentry_call *c, long request, int pid, uint64_t addr, uint64_t data);
long sys_wait4(struct sentry_call *c, int pid, uint64_t status, uint64_t options, uint64_t rusage);
long sys_waitid(struct sentry_call *c, int idtype, int id, uint64_t info, uint64_t options, uint64_t rusage);
long sys_process_vm_readv(struct sentry_call *c, int pid, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                          uint64_t riovcnt, uint64_t flags);
long sys_process_vm_writev(struct sentry_call *c, int pid, uint64_t lvec, uint64_t liovcnt, uint64_t rvec,
                           uint64_t riovcnt, uint64_t flags);

/* ident.c: identity and host-wide state */
long sys_uname(struct sentry_call *c, uint64_t buf);
long sys_adjtimex(struct sentry_call *c, uint64_t buf);
long sys_clock_adjtime(struct sentry_call *c, int clk, uint64_t buf);
long sys_prctl(struct sentry_call *c, int option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/* exec.c: process lifetime events, audited */
long sys_execve(struct sentry_call *c, uint64_t path, uint64_t argv, uint64_t envp);
long sys_execveat(struct sentry_call *c, int dirfd, uint64_t path, uint64_t argv, uint64_t envp,
                  uint64_t flags);
/* Called for every trapped call while execs are in flight: 0, or
 * SENTRY_KILL when the process runs something else than its exec named. */
long sys_exec_verify(struct sentry_call *c);
long sys_fallocate(struct sentry_call *c, int fd, uint64_t mode, long offset, long len);
long sys_exit(struct sentry_call *c, int status);
long sys_exit_group(struct sentry_call *c, int status);
/* The interpreter a "#!" line at the head of the file at fd names, read
 * into buf (cap bytes) and returned from there; NULL when the file does
 * not start with "#!". */
const char *exec_shebang(int fd, char *buf, size_t cap);
