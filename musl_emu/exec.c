/*
 * musl_emu/exec.c - execve: a program from the file system replaces this one
 * in the same process.
 *
 * The work is done here, in the old program, while failing is still harmless:
 * open the file, make an empty process (the image), load the ELF into it
 * (user/lib/loader.c), and copy into it the handles the new program keeps: the
 * descriptors without FD_CLOEXEC, the unreaped children, the FS root and the
 * boot image. What musl_emu itself knew (which descriptor each handle is, the
 * working directory, the umask, the children's pids) is written to a memobj,
 * the exec state, which the image gets too and whose handle its auxiliary
 * vector names (EXEC_AT_STATE). Then KS_SYS_PROCESS_EXEC makes the caller
 * take the image's address space and handle table: same pid, same parent,
 * same children. Any error before that call leaves this program as it was.
 *
 * In the new program, emu_init finds EXEC_AT_STATE and fills its tables from
 * the exec state instead of opening the console (exec_restore).
 */
#include "musl_emu/internal.h"
#include "kernel/elf.h"

#define EXEC_STATE_MAGIC 0x31756d6365786b65ull     /* "ekxecmu1" */

/*
 * The exec state memobj: this header at offset 0, then a DIR descriptor's
 * path at EXEC_PATHS + fd * FS_PATH_MAX, then nkids children at EXEC_KIDS.
 * Handle values in it are the image's.
 */
struct exec_header {
    uint64_t magic;
    uint64_t ignored;               /* signals that stay ignored (bit n - 1: signal n) */
    ks_handle_t parent;             /* the parent's signal handle, or 0 */
    uint32_t pgid, sid;             /* the process group and session stay */
    uint32_t nofile;                /* and the resource limits set here */
    uint32_t had_locks;             /* it asked fsd for file locks (they stay the pid's) */
    uint32_t ctty;                  /* the console is its controlling terminal (it joined) */
    ks_handle_t init_h;             /* init's signal handle, or 0 */
    uint64_t stack_limit;
    uint64_t alarm_at, alarm_every;  /* the ITIMER_REAL timer: it goes on in the new program */
    uint32_t umask, nkids;
    char cwd[FS_PATH_MAX];
    struct fd fds[MAX_FDS];         /* kind FD_FREE: closed, or closed by the exec */
};
struct exec_kid {
    uint32_t pid, pgid;
    ks_handle_t h;
};
#define EXEC_PATHS  ((sizeof(struct exec_header) + 4095) & ~4095ul)
#define EXEC_KIDS   (EXEC_PATHS + MAX_FDS * FS_PATH_MAX)

static struct emu_lock exec_lock;   /* one exec at a time: the buffers below and the loader's */
static struct exec_header hdr;
static char path_buf[FS_PATH_MAX];
static struct exec_kid kid_buf[64];

/* A copy of handle h (its rights kept) in the image: its value there, or a KS_ERR_*. */
static long give(ks_handle_t image, ks_handle_t h)
{
    long info = ks_handle_info(h);
    return info < 0 ? info : ks_handle_transfer(image, h, (uint32_t)info & KS_RIGHTS_ALL, 0);
}

/* Write len bytes at off of the exec state memobj: 0 or a KS_ERR_*. */
static long state_write(ks_handle_t st, uint64_t off, const void *p, size_t len)
{
    long r = ks_memobj_write(st, off, p, len);
    return r < 0 ? r : (size_t)r == len ? 0 : KS_ERR_NO_MEMORY;
}

/* The descriptors that survive the exec, into hdr and the state (fd_lock held). */
static long save_fds_locked(ks_handle_t image, ks_handle_t st)
{
    for (int i = 0; i < MAX_FDS; i++) {
        struct fd f = emu.fds[i];
        hdr.fds[i] = (struct fd){ .kind = FD_FREE };
        if (f.kind == FD_FREE || f.cloexec)
            continue;
        f.seq = 0;
        if (fd_kind_has_handles(f.kind)) {
            long h = give(image, f.h), h2 = f.h2 ? give(image, f.h2) : 0;
            if (h < 0 || h2 < 0)
                return h < 0 ? h : h2;
            f.h = (ks_handle_t)h;
            f.h2 = (ks_handle_t)h2;
        }
        if (f.kind == FD_DIR) {
            long r = state_write(st, EXEC_PATHS + (uint64_t)i * FS_PATH_MAX, emu.dir_path[i], FS_PATH_MAX);
            if (r < 0)
                return r;
        }
        hdr.fds[i] = f;
    }
    return 0;
}

/* The unreaped children, into the state (fd_lock held: it guards the kids table too). */
static long save_kids_locked(ks_handle_t image, ks_handle_t st)
{
    unsigned n = 0, batch = 0;
    for (int i = 0; i < MAX_KIDS; i++) {
        if (!emu.kids[i].pid)
            continue;
        long h = give(image, emu.kids[i].h);
        if (h < 0)
            return h;
        kid_buf[batch++] = (struct exec_kid){ emu.kids[i].pid, emu.kids[i].pgid, (ks_handle_t)h };
        if (batch == sizeof kid_buf / sizeof kid_buf[0]) {
            long r = state_write(st, EXEC_KIDS + n * sizeof(struct exec_kid), kid_buf, sizeof kid_buf);
            if (r < 0)
                return r;
            n += batch;
            batch = 0;
        }
    }
    long r = state_write(st, EXEC_KIDS + n * sizeof(struct exec_kid), kid_buf, batch * sizeof kid_buf[0]);
    if (r < 0)
        return r;
    n += batch;
    hdr.nkids = n;
    return 0;
}

/* Build the exec state for `image` and give it to it: its handle there, or a KS_ERR_*. */
static long save_state(ks_handle_t image)
{
    long st = ks_memobj_create(0);
    if (st < 0)
        return st;
    hdr.magic = EXEC_STATE_MAGIC;
    hdr.umask = emu.umask;
    hdr.ignored = signal_ignored();
    hdr.pgid = emu_own_pgid();
    hdr.sid = emu.sid;
    hdr.nofile = emu.nofile;
    hdr.had_locks = (uint32_t)locks_any();
    hdr.ctty = (uint32_t)emu.ctty;
    hdr.init_h = 0;
    if (emu.init_h) {
        long h = give(image, emu.init_h);
        hdr.init_h = h > 0 ? (ks_handle_t)h : 0;
    }
    hdr.stack_limit = emu.stack_limit;
    itimer_for_exec(&hdr.alarm_at, &hdr.alarm_every);
    hdr.parent = 0;
    if (emu.parent) {
        long h = give(image, emu.parent);
        if (h < 0) {
            ks_handle_close((ks_handle_t)st);
            return h;
        }
        hdr.parent = (ks_handle_t)h;
    }
    memcpy(hdr.cwd, emu.cwd, sizeof hdr.cwd);
    lock(&emu.fd_lock);
    long r = save_fds_locked(image, (ks_handle_t)st);
    if (r == 0)
        r = save_kids_locked(image, (ks_handle_t)st);
    unlock(&emu.fd_lock);
    if (r == 0)
        r = state_write((ks_handle_t)st, 0, &hdr, sizeof hdr);
    if (r == 0)
        r = give(image, (ks_handle_t)st);
    ks_handle_close((ks_handle_t)st);
    return r;
}

/* The stack the loader gives the new program: RLIMIT_STACK if set (0 there is the default). */
static uint64_t exec_stack_size(void)
{
    if (!emu.stack_limit)
        return 0;
    return emu.stack_limit > 1 ? emu.stack_limit - 1 : 1;   /* a limit of 0: the loader's least */
}

/* A loader error (ELF_ERR_*, or a KS_ERR_* of its system calls) as execve's errno. */
static long exec_errno(long r)
{
    switch (r) {
    case ELF_ERR_STACK: return -E2BIG;
    case KS_ERR_NO_MEMORY: return -ENOMEM;
    case KS_ERR_NO_HANDLES: return -EMFILE;
    case KS_ERR_LIMIT: return -EAGAIN;
    default: return -ENOEXEC;   /* the file is not an executable this system can load */
    }
}

/* Open path as an executable: the file's memobj handle in *file (fd `*fd` holds it), or -errno. */
static long open_executable(const char *path, long *fd, ks_handle_t *file)
{
    struct stat st;
    struct fd f;
    *fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (*fd < 0)
        return *fd;
    long r = sys_fstat(*fd, &st);
    if (r == 0 && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
        r = -EACCES;
    if (r == 0 && (!fd_get(*fd, &f) || f.kind != FD_FILE))
        r = -EACCES;
    long m = r == 0 ? fd_memobj(*fd, &f) : r;
    if (m < 0) {
        sys_close(*fd);
        return m;
    }
    *file = (ks_handle_t)m;
    return 0;
}

/* Load the file into a new image with everything the new program keeps: the image's handle. */
static long build_image(const char *path, ks_handle_t file, char *const argv[], char *const envp[],
                        uint64_t *entry, uint64_t *sp)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    long image = ks_process_create(base, strlen(base));
    if (image < 0)
        return exec_errno(image);
    struct elf_auxv aux[3];
    unsigned n = 0;
    long st = save_state((ks_handle_t)image), h = st;
    if (st >= 0)
        aux[n++] = (struct elf_auxv){ EXEC_AT_STATE, (uint64_t)st };
    if (h >= 0 && emu.root && (h = give((ks_handle_t)image, emu.root)) >= 0)
        aux[n++] = (struct elf_auxv){ FS_AT_ROOT, (uint64_t)h };
    ks_handle_t boot = (ks_handle_t)getauxval(KS_AT_BOOTIMAGE);
    if (h >= 0 && boot && (h = give((ks_handle_t)image, boot)) >= 0)
        aux[n++] = (struct elf_auxv){ KS_AT_BOOTIMAGE, (uint64_t)h };
    long err = h < 0 ? linux_err(h) : 0;
    if (!err && (h = ulib_load_file((ks_handle_t)image, file, (const char *const *)argv,
                                    (const char *const *)envp, aux, n, exec_stack_size(), entry, sp)) < 0)
        err = exec_errno(h);
    if (err) {
        ks_handle_close((ks_handle_t)image);    /* and everything given to it */
        return err;
    }
    return image;
}

#define SCRIPT_DEPTH    4               /* #! interpreters that are scripts themselves */
#define SCRIPT_LINE     128             /* the #! line is read up to here (Linux: 256) */
#define SCRIPT_ARGS     64

static long exec_depth(const char *path, char *const argv[], char *const envp[], int depth);

/*
 * A script: "#!interpreter [one argument]" on its first line. Runs the
 * interpreter with argv interpreter, [argument,] path, argv[1], ... as Linux
 * does. 1 (not a script: load it as an ELF), or what the exec of the
 * interpreter returned.
 */
static long exec_script(const char *path, ks_handle_t file, char *const argv[], char *const envp[], int depth)
{
    char line[SCRIPT_LINE + 1];
    char *args[SCRIPT_ARGS + 3];
    long n = ks_memobj_read(file, 0, line, SCRIPT_LINE);
    if (n < 2 || line[0] != '#' || line[1] != '!')
        return 1;
    if (depth >= SCRIPT_DEPTH)
        return -ELOOP;
    line[n] = '\0';
    char *end = strchr(line, '\n');
    if (!end && n == SCRIPT_LINE)
        return -ENOEXEC;                /* the interpreter line does not fit */
    if (end)
        *end = '\0';
    char *interp = line + 2;
    while (*interp == ' ' || *interp == '\t')
        interp++;
    if (!*interp)
        return -ENOEXEC;
    char *arg = interp + strcspn(interp, " \t");
    if (*arg) {
        *arg++ = '\0';
        while (*arg == ' ' || *arg == '\t')
            arg++;
        size_t len = strlen(arg);       /* Linux keeps the rest as one argument, trailing blanks cut */
        while (len && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
            arg[--len] = '\0';
    }
    unsigned k = 0;
    args[k++] = interp;
    if (*arg)
        args[k++] = arg;
    args[k++] = (char *)path;
    for (unsigned i = 1; argv && argv[0] && argv[i]; i++) {
        if (k >= SCRIPT_ARGS + 2)
            return -E2BIG;
        args[k++] = argv[i];
    }
    args[k] = NULL;
    return exec_depth(interp, args, envp, depth + 1);
}

long sys_execve(const char *path, char *const argv[], char *const envp[])
{
    return exec_depth(path, argv, envp, 0);
}

static long exec_depth(const char *path, char *const argv[], char *const envp[], int depth)
{
    long fd, r;
    ks_handle_t file;
    uint64_t entry, sp;
    if (!emu.ready)
        emu_init();
    if ((r = open_executable(path, &fd, &file)) < 0)
        return r;
    if ((r = exec_script(path, file, argv, envp, depth)) != 1) {
        sys_close(fd);
        return r;                       /* the interpreter's exec failed (it returns only then) */
    }
    lock(&exec_lock);
    hdr.alarm_at = hdr.alarm_every = 0;
    long image = build_image(path, file, argv, envp, &entry, &sp);
    sys_close(fd);              /* the image's mappings hold the file now */
    if (image >= 0) {
        r = ks_process_exec((ks_handle_t)image, entry, sp);     /* returns only on failure */
        ks_handle_close((ks_handle_t)image);
        image = r == KS_ERR_INTERRUPTED ? -EINTR : exec_errno(r);
    }
    itimer_after_exec(hdr.alarm_at, hdr.alarm_every);  /* (still here: the timer this exec took goes on) */
    unlock(&exec_lock);
    return image;
}

void exec_restore_timer(void)
{
    if (hdr.magic == EXEC_STATE_MAGIC)
        itimer_after_exec(hdr.alarm_at, hdr.alarm_every);
}

/* In the new program: its tables from the exec state memobj st (closed after). 0, or -1 if unusable. */
int exec_restore(ks_handle_t st)
{
    int ok = ks_memobj_read(st, 0, &hdr, sizeof hdr) == (long)sizeof hdr && hdr.magic == EXEC_STATE_MAGIC;
    if (ok) {
        emu.umask = hdr.umask;
        emu.exec_ignored = hdr.ignored;
        emu.pgid = hdr.pgid;
        emu.sid = hdr.sid;
        emu.nofile = hdr.nofile;
        if (hdr.had_locks)
            locks_after_exec();
        emu.stack_limit = hdr.stack_limit;
        emu.parent = hdr.parent;
        emu.ctty = (int)hdr.ctty;
        emu.init_h = hdr.init_h;
        memcpy(emu.cwd, hdr.cwd, sizeof emu.cwd);
        emu.cwd[sizeof emu.cwd - 1] = '\0';
        lock(&emu.fd_lock);
        for (int i = 0; i < MAX_FDS; i++) {
            if (hdr.fds[i].kind == FD_FREE)
                continue;
            const char *path = NULL;
            if (hdr.fds[i].kind == FD_DIR &&
                ks_memobj_read(st, EXEC_PATHS + (uint64_t)i * FS_PATH_MAX, path_buf, FS_PATH_MAX) == FS_PATH_MAX) {
                path_buf[FS_PATH_MAX - 1] = '\0';
                path = path_buf;
            }
            if (hdr.fds[i].kind == FD_DIR && !path)
                path = "/";
            fd_set_locked(i, &hdr.fds[i], path);
        }
        for (uint32_t i = 0; i < hdr.nkids && i < MAX_KIDS; i++) {
            struct exec_kid k;
            if (ks_memobj_read(st, EXEC_KIDS + i * sizeof k, &k, sizeof k) != (long)sizeof k)
                break;
            emu.kids[i].pid = k.pid;
            emu.kids[i].pgid = k.pgid;
            emu.kids[i].h = k.h;
        }
        unlock(&emu.fd_lock);
    }
    ks_handle_close(st);
    return ok ? 0 : -1;
}
