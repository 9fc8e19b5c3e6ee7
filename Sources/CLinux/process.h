// Process-isolation declarations (namespaces, prctl, rlimits, mounts, pidfd) used by the
// worker's sandbox launcher. No _GNU_SOURCE (see shim.h): the GNU-only constants are defined
// here by value, and variadic C functions (prctl, syscall) get small fixed-arity wrappers
// because Swift does not import variadic C functions.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <errno.h>

// clone(2)/unshare(2) namespace flags (linux/sched.h values).
static const int plinth_clone_newns = 0x00020000;
static const int plinth_clone_newuts = 0x04000000;
static const int plinth_clone_newipc = 0x08000000;
static const int plinth_clone_newuser = 0x10000000;
static const int plinth_clone_newpid = 0x20000000;
static const int plinth_clone_newnet = 0x40000000;

// mount(2) flags (linux/mount.h values).
static const unsigned long plinth_ms_rdonly = 1;
static const unsigned long plinth_ms_nosuid = 2;
static const unsigned long plinth_ms_nodev = 4;
static const unsigned long plinth_ms_noexec = 8;
static const unsigned long plinth_ms_remount = 32;
static const unsigned long plinth_ms_nodiratime = 2048;
static const unsigned long plinth_ms_noatime = 1024;
static const unsigned long plinth_ms_relatime = (1 << 21);
static const unsigned long plinth_ms_bind = 4096;
static const unsigned long plinth_ms_rec = 16384;
static const unsigned long plinth_ms_private = (1 << 18);

// statvfs f_flag bits that a remount inside a user namespace must keep (they are locked).
static const unsigned long plinth_st_rdonly = 1;
static const unsigned long plinth_st_nosuid = 2;
static const unsigned long plinth_st_nodev = 4;
static const unsigned long plinth_st_noexec = 8;
static const unsigned long plinth_st_noatime = 1024;
static const unsigned long plinth_st_nodiratime = 2048;
static const unsigned long plinth_st_relatime = 4096;

// setrlimit(2) resources (asm-generic/resource.h values).
static const int plinth_rlimit_cpu = 0;
static const int plinth_rlimit_fsize = 1;
static const int plinth_rlimit_core = 4;
static const int plinth_rlimit_nproc = 6;
static const int plinth_rlimit_nofile = 7;
static const int plinth_rlimit_as = 9;
static const unsigned long long plinth_rlim_infinity = ~0ULL;

// posix_spawn flags that need _GNU_SOURCE in glibc.
static const short plinth_posix_spawn_setsid = 0x80;
static const short plinth_posix_spawn_setsigmask = 0x08;
static const short plinth_posix_spawn_setsigdef = 0x04;

static inline int plinth_set_no_new_privs(void) { return prctl(38 /* PR_SET_NO_NEW_PRIVS */, 1UL, 0UL, 0UL, 0UL); }
static inline int plinth_set_pdeathsig(int sig) { return prctl(1 /* PR_SET_PDEATHSIG */, (unsigned long)sig, 0UL, 0UL, 0UL); }
static inline int plinth_set_dumpable(int on) { return prctl(4 /* PR_SET_DUMPABLE */, (unsigned long)on, 0UL, 0UL, 0UL); }

static inline int plinth_setrlimit(int resource, unsigned long long soft, unsigned long long hard) {
    struct rlimit limit;
    limit.rlim_cur = (rlim_t)soft;
    limit.rlim_max = (rlim_t)hard;
    return setrlimit(resource, &limit);
}

static inline unsigned long long plinth_getrlimit_soft(int resource) {
    struct rlimit limit;
    if (getrlimit(resource, &limit) != 0) return 0;
    return (unsigned long long)limit.rlim_cur;
}

extern int setgroups(size_t size, const gid_t *list);
static inline int plinth_setgroups_none(void) { return setgroups(0, 0); }

static inline int plinth_pidfd_open(pid_t pid) { return (int)syscall(434 /* SYS_pidfd_open */, pid, 0); }
static inline int plinth_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(424 /* SYS_pidfd_send_signal */, pidfd, sig, 0, 0);
}
/// Closes every descriptor from `first` up; falls back to a loop on kernels without close_range.
static inline void plinth_close_from(int first) {
    if (syscall(436 /* SYS_close_range */, (unsigned int)first, ~0U, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int fd = first; fd < max; fd++) close(fd);
}

extern int pipe2(int pipefd[2], int flags);
static const int plinth_o_cloexec = 02000000;
static const int plinth_o_nonblock = 04000;

static inline pid_t plinth_fork(void) { return fork(); }
static inline int plinth_errno(void) { return errno; }

// Wait-status decoding (the W* macros are not imported into Swift).
static inline int plinth_wifexited(int status) { return WIFEXITED(status); }
static inline int plinth_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int plinth_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int plinth_wtermsig(int status) { return WTERMSIG(status); }

// A seccomp denylist for replicas: system calls a model server never needs and that widen the
// kernel's attack surface or could undo the sandbox (namespaces, mounts, modules, ptrace,
// keyrings, BPF). They fail with EPERM; a foreign architecture is killed. Installed after
// no_new_privs, right before exec.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <stddef.h>

#if defined(__x86_64__)
#define PLINTH_SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PLINTH_SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

#define PLINTH_DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

/// Installs the denylist; returns 0, or -1 with errno (also when the architecture is unknown).
static inline int plinth_install_seccomp_denylist(void) {
#ifdef PLINTH_SECCOMP_ARCH
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PLINTH_SECCOMP_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
        // x32 system calls (bit 30) would bypass the numbers below.
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
#endif
        PLINTH_DENY(SYS_unshare), PLINTH_DENY(SYS_setns), PLINTH_DENY(SYS_mount), PLINTH_DENY(SYS_umount2),
        PLINTH_DENY(SYS_pivot_root), PLINTH_DENY(SYS_ptrace), PLINTH_DENY(SYS_process_vm_readv),
        PLINTH_DENY(SYS_process_vm_writev), PLINTH_DENY(SYS_kexec_load), PLINTH_DENY(SYS_init_module),
        PLINTH_DENY(SYS_finit_module), PLINTH_DENY(SYS_delete_module), PLINTH_DENY(SYS_reboot),
        PLINTH_DENY(SYS_swapon), PLINTH_DENY(SYS_swapoff), PLINTH_DENY(SYS_bpf), PLINTH_DENY(SYS_perf_event_open),
        PLINTH_DENY(SYS_keyctl), PLINTH_DENY(SYS_add_key), PLINTH_DENY(SYS_request_key),
        PLINTH_DENY(SYS_userfaultfd), PLINTH_DENY(SYS_open_by_handle_at), PLINTH_DENY(SYS_acct),
        PLINTH_DENY(SYS_quotactl), PLINTH_DENY(SYS_syslog), PLINTH_DENY(SYS_settimeofday),
        PLINTH_DENY(SYS_clock_settime), PLINTH_DENY(SYS_clock_adjtime), PLINTH_DENY(SYS_adjtimex),
        PLINTH_DENY(SYS_fsopen), PLINTH_DENY(SYS_fsmount), PLINTH_DENY(SYS_move_mount), PLINTH_DENY(SYS_open_tree),
#ifdef SYS_kexec_file_load
        PLINTH_DENY(SYS_kexec_file_load),
#endif
#ifdef SYS_iopl
        PLINTH_DENY(SYS_iopl), PLINTH_DENY(SYS_ioperm),
#endif
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = { (unsigned short)(sizeof(filter) / sizeof(filter[0])), filter };
    return prctl(22 /* PR_SET_SECCOMP */, 2 /* SECCOMP_MODE_FILTER */, (unsigned long)&program, 0UL, 0UL);
#else
    errno = ENOSYS;
    return -1;
#endif
}
