/* discover.c: builds the inventory: block devices and NVMe controllers from
 * sysfs, details and health from the tools, in-use checks, classification. */
#include "couchestor/hw.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/internal.h"

#define CS__HW_MAX_DEVICES 4096
#define CS__HW_MAX_WARNINGS 256
#define CS__HW_MAX_MOUNTS 4096
#define CS__HW_MAX_SWAPS 256
#define CS__HW_PROC_MAX ((size_t)4 * 1024 * 1024)

void cs_hw_config_init(cs_hw_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sysfs_root = "/sys";
    cfg->proc_root = "/proc";
    cfg->dev_root = "/dev";
    cfg->nvme_path = "/usr/sbin/nvme";
    cfg->smartctl_path = "/usr/sbin/smartctl";
    cfg->tool_timeout_ns = INT64_C(10000000000);
    cfg->tool_output_max = (size_t)4 * 1024 * 1024;
    cfg->media_error_threshold = 0;
    cfg->percent_used_limit = 90;
}

void cs_hw_inventory_free(cs_hw_inventory_t *inv)
{
    if (!inv)
        return;
    free(inv->devices);
    for (size_t i = 0; i < inv->nwarnings; i++)
        free(inv->warnings[i]);
    free(inv->warnings);
    memset(inv, 0, sizeof *inv);
}

int cs_hw_inventory_warn(cs_hw_inventory_t *inv, const char *fmt, ...)
{
    if (inv->nwarnings >= CS__HW_MAX_WARNINGS)
        return 0;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CS_ENOMEM;
    char **grown = realloc(inv->warnings, (inv->nwarnings + 1) * sizeof *grown);
    if (!grown) {
        free(msg);
        return CS_ENOMEM;
    }
    inv->warnings = grown;
    inv->warnings[inv->nwarnings++] = msg;
    return 0;
}

/* snprintf that truncates silently: every use here has a bounded output
 * where truncation only shortens a name, path or message. Returns false
 * when it truncated. */
__attribute__((format(printf, 3, 4))) static bool cs__fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

/* ---- sysfs ---- */

typedef struct cs__ctx_s {
    const cs_hw_config_t *cfg;
    cs_hw_inventory_t *inv;
    cs_hw_mount_t *mounts;
    size_t nmounts;
    char (*swaps)[CS_HW_PATH_MAX];
    size_t nswaps;
} cs__ctx_t;

static bool cs__has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool cs__is_virtual(const char *name)
{
    return cs__has_prefix(name, "loop") || cs__has_prefix(name, "ram") || cs__has_prefix(name, "zram") ||
           cs__has_prefix(name, "dm-");
}

static int cs__name_cmp(const void *a, const void *b)
{
    return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lists the entry names of dir (without . and ..), sorted naturally. The
 * caller frees each name and the array. Returns the count or a negative code. */
static int cs__list_dir(const char *dir, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? CS_ENOTFOUND : CS_EIO;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int result = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        if (n >= CS__HW_MAX_DEVICES)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **g = realloc(names, ncap * sizeof *g);
            if (!g) {
                result = CS_ENOMEM;
                break;
            }
            names = g;
            cap = ncap;
        }
        if (!(names[n] = strdup(e->d_name))) {
            result = CS_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (result < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return result;
    }
    if (n)
        qsort(names, n, sizeof *names, cs__name_cmp);
    *out = names;
    return (int)n;
}

static void cs__free_list(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool cs__exists(const char *dir, const char *name)
{
    char p[CS_HW_PATH_MAX * 2];
    cs__fmt(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Reads an unsigned attribute; warns (naming the file) when it exists but is
 * malformed or unreadable. */
static bool cs__attr_u64(cs__ctx_t *c, const char *dir, const char *name, uint64_t *out)
{
    char buf[64];
    int n = cs_hw_attr_read(dir, name, buf, sizeof buf);
    if (n == CS_ENOTFOUND)
        return false;
    if (n < 0 || cs_hw_attr_parse_u64(buf, (size_t)n, out) != 0) {
        char shown[32];
        cs_hw_attr_clean(buf, n > 0 ? (size_t)n : 0, shown, sizeof shown);
        if (n < 0)
            cs_hw_inventory_warn(c->inv, "sysfs: %s/%s: cannot read (%s); ignored", dir, name, cs_strerror(n));
        else
            cs_hw_inventory_warn(c->inv, "sysfs: %s/%s: not a number: '%s'; ignored", dir, name, shown);
        return false;
    }
    return true;
}

static void cs__attr_text(const char *dir, const char *name, char *out, size_t cap)
{
    char buf[512];
    int n = cs_hw_attr_read(dir, name, buf, sizeof buf);
    if (n > 0 && !out[0])
        cs_hw_attr_clean(buf, (size_t)n, out, cap);
}

static void cs__transport_from_path(const char *real, char *out, size_t cap)
{
    static const struct {
        const char *needle, *transport;
    } rules[] = {
        {"/usb", "usb"},         {"/ata", "sata"},
        {"/end_device-", "sas"}, {"/expander-", "sas"},
        {"/rport-", "fc"},       {"/session", "iscsi"},
        {"/virtio", "virtio"},   {"/mmc_host", "mmc"},
        {"/nvme", "nvme"},       {"/devices/virtual/", "virtual"},
        {"/host", "scsi"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (strstr(real, rules[i].needle)) {
            cs__fmt(out, cap, "%s", rules[i].transport);
            return;
        }
    }
}

static void cs__read_partitions(cs__ctx_t *c, const char *devdir, cs_hw_device_t *dev)
{
    char **names;
    int n = cs__list_dir(devdir, &names);
    for (int i = 0; i < n; i++) {
        char sub[CS_HW_PATH_MAX * 2];
        cs__fmt(sub, sizeof sub, "%s/%s", devdir, names[i]);
        if (!cs__has_prefix(names[i], dev->name) || !cs__exists(sub, "partition"))
            continue;
        if (dev->npartitions < CS_HW_PARTS_MAX)
            cs__fmt(dev->partitions[dev->npartitions++], CS_HW_NAME_MAX, "%s", names[i]);
    }
    (void)c;
    if (n > 0)
        cs__free_list(names, n);
}

static int cs__scan_block(cs__ctx_t *c, cs_err_t *err)
{
    const cs_hw_config_t *cfg = c->cfg;
    char classdir[CS_HW_PATH_MAX];
    cs__fmt(classdir, sizeof classdir, "%s/class/block", cfg->sysfs_root);
    char **names;
    int n = cs__list_dir(classdir, &names);
    if (n == CS_ENOMEM)
        return cs_err_set(err, CS_ENOMEM, "out of memory listing %s", classdir);
    if (n < 0)
        return cs_err_set(err, CS_EHARDWARE_DISCOVERY,
                          "cannot list block devices in %s (%s): is sysfs mounted there? "
                          "Use --sysfs-root to point at it",
                          classdir, cs_strerror(n));
    int result = 0;
    c->inv->devices = calloc(n ? (size_t)n : 1, sizeof *c->inv->devices);
    if (!c->inv->devices) {
        cs__free_list(names, n);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i];
        char devdir[CS_HW_PATH_MAX];
        cs__fmt(devdir, sizeof devdir, "%s/%s", classdir, name);
        if (strlen(name) >= CS_HW_NAME_MAX)
            continue;
        char real[PATH_MAX];
        if (!realpath(devdir, real)) {
            cs_hw_inventory_warn(c->inv, "sysfs: %s: cannot resolve (%s); device skipped", devdir, strerror(errno));
            continue;
        }
        struct stat st;
        if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cs_hw_inventory_warn(c->inv, "sysfs: %s is not a directory; device skipped", devdir);
            continue;
        }
        if (cs__exists(devdir, "partition"))
            continue;
        uint64_t hidden = 0;
        if (cs__attr_u64(c, devdir, "hidden", &hidden) && hidden)
            continue; /* NVMe multipath path devices (nvme0c0n1) */
        bool virt = cs__is_virtual(name);
        if (virt && !cfg->include_virtual)
            continue;

        cs_hw_device_t *dev = &c->inv->devices[c->inv->count++];
        memset(dev, 0, sizeof *dev);
        cs__hw_health_init(&dev->health);
        cs__fmt(dev->name, sizeof dev->name, "%s", name);
        cs__fmt(dev->path, sizeof dev->path, "%s/%s", cfg->dev_root, name);
        dev->is_virtual = virt;
        dev->rotational = -1;
        dev->numa_node = -1;

        char buf[64];
        int len = cs_hw_attr_read(devdir, "dev", buf, sizeof buf);
        if (len < 0 || cs_hw_attr_parse_devnum(buf, (size_t)len, &dev->major, &dev->minor) != 0)
            cs_hw_inventory_warn(c->inv,
                                 "sysfs: %s/dev: missing or malformed; mount checks by "
                                 "device number are skipped for %s",
                                 devdir, name);
        uint64_t v;
        if (cs__attr_u64(c, devdir, "size", &v))
            dev->size_bytes = v > UINT64_MAX / 512 ? UINT64_MAX : v * 512;
        if (cs__attr_u64(c, devdir, "queue/logical_block_size", &v) && v <= UINT32_MAX)
            dev->logical_block_size = (uint32_t)v;
        if (cs__attr_u64(c, devdir, "queue/physical_block_size", &v) && v <= UINT32_MAX)
            dev->physical_block_size = (uint32_t)v;
        if (cs__attr_u64(c, devdir, "queue/rotational", &v)) {
            if (v <= 1)
                dev->rotational = (int)v;
            else
                cs_hw_inventory_warn(c->inv,
                                     "sysfs: %s/queue/rotational: unexpected value %llu; "
                                     "rotation unknown",
                                     devdir, (unsigned long long)v);
        }
        if (cs__attr_u64(c, devdir, "removable", &v))
            dev->removable = v != 0;
        if (cs__attr_u64(c, devdir, "ro", &v))
            dev->read_only = v != 0;

        char sub[CS_HW_PATH_MAX + 16];
        cs__fmt(sub, sizeof sub, "%s/device", devdir);
        char vendor[64] = "", model[CS_HW_TEXT_MAX] = "";
        cs__attr_text(sub, "vendor", vendor, sizeof vendor);
        cs__attr_text(sub, "model", model, sizeof model);
        /* libata reports vendor "ATA"; a PCI id (virtio "0x1af4") is no vendor name. */
        if (vendor[0] && strcmp(vendor, "ATA") != 0 && !cs__has_prefix(vendor, "0x") && model[0])
            cs__fmt(dev->model, sizeof dev->model, "%.40s %.80s", vendor, model);
        else
            cs__fmt(dev->model, sizeof dev->model, "%s", model);
        cs__attr_text(devdir, "serial", dev->serial, sizeof dev->serial);
        cs__attr_text(sub, "serial", dev->serial, sizeof dev->serial);
        if (!dev->serial[0]) {
            uint8_t page[256];
            int pl = cs_hw_attr_read(sub, "vpd_pg80", (char *)page, sizeof page);
            if (pl > 0)
                cs_hw_vpd80_serial(page, (size_t)pl, dev->serial, sizeof dev->serial);
        }
        cs__attr_text(sub, "rev", dev->firmware, sizeof dev->firmware);
        cs__attr_text(devdir, "wwid", dev->wwid, sizeof dev->wwid);
        cs__attr_text(sub, "wwid", dev->wwid, sizeof dev->wwid);
        cs__transport_from_path(real, dev->transport, sizeof dev->transport);
        if (cs__attr_u64(c, sub, "numa_node", &v) && v < 1024)
            dev->numa_node = (int)v;
        cs__read_partitions(c, devdir, dev);
    }
    cs__free_list(names, n);
    return result;
}

static cs_hw_device_t *cs__find(cs_hw_inventory_t *inv, const char *name)
{
    for (size_t i = 0; i < inv->count; i++)
        if (strcmp(inv->devices[i].name, name) == 0)
            return &inv->devices[i];
    return NULL;
}

/* Joins NVMe controllers (class/nvme/nvmeX) to their namespaces: nvmeXnY
 * directly, or nvmeXcZnY paths (native multipath) to the head nvmeXnY. */
static void cs__scan_nvme(cs__ctx_t *c)
{
    char classdir[CS_HW_PATH_MAX];
    cs__fmt(classdir, sizeof classdir, "%s/class/nvme", c->cfg->sysfs_root);
    char **ctrls;
    int n = cs__list_dir(classdir, &ctrls);
    for (int i = 0; i < n; i++) {
        char cdir[CS_HW_PATH_MAX + 64];
        cs__fmt(cdir, sizeof cdir, "%s/%s", classdir, ctrls[i]);
        char model[CS_HW_TEXT_MAX] = "", serial[CS_HW_TEXT_MAX] = "", fw[CS_HW_NAME_MAX] = "", transport[16] = "";
        cs__attr_text(cdir, "model", model, sizeof model);
        cs__attr_text(cdir, "serial", serial, sizeof serial);
        cs__attr_text(cdir, "firmware_rev", fw, sizeof fw);
        cs__attr_text(cdir, "transport", transport, sizeof transport);
        uint64_t numa = UINT64_MAX;
        if (!cs__attr_u64(c, cdir, "numa_node", &numa)) {
            char ddir[CS_HW_PATH_MAX + 80];
            cs__fmt(ddir, sizeof ddir, "%s/device", cdir);
            cs__attr_u64(c, ddir, "numa_node", &numa);
        }
        char **entries;
        int ne = cs__list_dir(cdir, &entries);
        for (int j = 0; j < ne; j++) {
            unsigned a, b, ns;
            char tail;
            char head[CS_HW_NAME_MAX];
            /* nvmeAcBnN (the path through controller B) and nvmeAnN both name
             * the block device nvmeAnN; anything else (partitions) is skipped. */
            if (sscanf(entries[j], "nvme%uc%un%u%c", &a, &b, &ns, &tail) != 3 &&
                sscanf(entries[j], "nvme%un%u%c", &a, &ns, &tail) != 2)
                continue;
            cs__fmt(head, sizeof head, "nvme%un%u", a, ns);
            cs_hw_device_t *dev = cs__find(c->inv, head);
            if (!dev || dev->controller[0])
                continue;
            cs__fmt(dev->controller, sizeof dev->controller, "%s", ctrls[i]);
            if (model[0])
                cs__fmt(dev->model, sizeof dev->model, "%s", model);
            if (serial[0])
                cs__fmt(dev->serial, sizeof dev->serial, "%s", serial);
            if (fw[0])
                cs__fmt(dev->firmware, sizeof dev->firmware, "%s", fw);
            cs__fmt(dev->transport, sizeof dev->transport, "%s", transport[0] ? transport : "nvme");
            if (numa < 1024)
                dev->numa_node = (int)numa;
        }
        if (ne > 0)
            cs__free_list(entries, ne);
    }
    if (n > 0)
        cs__free_list(ctrls, n);
}

/* Lower rank = preferred: names that embed the serial read well and are what
 * people expect in a manifest; then world-wide names. */
static int cs__by_id_rank(const char *link)
{
    static const char *const prefixes[] = {"nvme-eui.", "nvme-uuid.", "nvme-nvme.", "nvme-", "ata-",
                                           "scsi-S",    "wwn-",       "scsi-",      "usb-",  "virtio-"};
    static const int ranks[] = {5, 6, 7, 1, 1, 2, 4, 8, 9, 3};
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
        if (cs__has_prefix(link, prefixes[i]))
            return ranks[i];
    return 10;
}

static void cs__scan_by_id(cs__ctx_t *c)
{
    char dir[CS_HW_PATH_MAX];
    cs__fmt(dir, sizeof dir, "%s/disk/by-id", c->cfg->dev_root);
    char **links;
    int n = cs__list_dir(dir, &links);
    if (n <= 0)
        return;
    int *best = calloc(c->inv->count ? c->inv->count : 1, sizeof *best);
    for (int i = 0; best && i < n; i++) {
        char p[CS_HW_PATH_MAX * 2], target[CS_HW_PATH_MAX];
        cs__fmt(p, sizeof p, "%s/%s", dir, links[i]);
        ssize_t tl = readlink(p, target, sizeof target - 1);
        if (tl <= 0)
            continue;
        target[tl] = '\0';
        const char *base = strrchr(target, '/');
        base = base ? base + 1 : target;
        cs_hw_device_t *dev = cs__find(c->inv, base);
        if (!dev)
            continue;
        size_t idx = (size_t)(dev - c->inv->devices);
        int rank = cs__by_id_rank(links[i]);
        /* Same rank: the shorter name (nvme-X_SERIAL over nvme-X_SERIAL_1). */
        if (!dev->by_id[0] || rank < best[idx] ||
            (rank == best[idx] && strlen(links[i]) + sizeof "/dev/disk/by-id/" - 1 < strlen(dev->by_id))) {
            cs__fmt(dev->by_id, sizeof dev->by_id, "/dev/disk/by-id/%s", links[i]);
            best[idx] = rank;
        }
    }
    free(best);
    cs__free_list(links, n);
}

/* ---- /proc ---- */

static char *cs__slurp(const char *path, size_t max, size_t *len)
{
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max)
                break;
            char *g = realloc(buf, cap * 2 + 1);
            if (!g) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = g;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static void cs__load_proc(cs__ctx_t *c)
{
    char path[CS_HW_PATH_MAX];
    size_t len;
    cs__fmt(path, sizeof path, "%s/self/mountinfo", c->cfg->proc_root);
    char *text = cs__slurp(path, CS__HW_PROC_MAX, &len);
    if (!text) {
        /* Without it nothing can be proven unmounted: every device is unverified. */
        cs_hw_inventory_warn(c->inv,
                             "cannot read %s (%s): mounted devices cannot be recognised, "
                             "so no device is offered for a pool",
                             path, strerror(errno));
    } else {
        c->mounts = calloc(CS__HW_MAX_MOUNTS, sizeof *c->mounts);
        size_t skipped = 0;
        if (c->mounts)
            cs_hw_mountinfo_parse(text, len, c->mounts, CS__HW_MAX_MOUNTS, &c->nmounts, &skipped);
        if (skipped)
            cs_hw_inventory_warn(c->inv, "%s: %zu malformed lines ignored", path, skipped);
        free(text);
    }
    cs__fmt(path, sizeof path, "%s/swaps", c->cfg->proc_root);
    text = cs__slurp(path, CS__HW_PROC_MAX, &len);
    if (text) {
        c->swaps = calloc(CS__HW_MAX_SWAPS, sizeof *c->swaps);
        if (c->swaps)
            cs_hw_swaps_parse(text, len, c->swaps, CS__HW_MAX_SWAPS, &c->nswaps);
        free(text);
    }
}

/* The kernel name a /dev path stands for: "/dev/sda2" -> "sda2",
 * "/dev/disk/by-uuid/X" -> its link target under dev_root. */
static void cs__dev_name(const cs_hw_config_t *cfg, const char *source, char *out, size_t cap)
{
    out[0] = '\0';
    if (!cs__has_prefix(source, "/dev/"))
        return;
    char p[CS_HW_PATH_MAX * 2], real[PATH_MAX];
    cs__fmt(p, sizeof p, "%s/%s", cfg->dev_root, source + 5);
    const char *use = source;
    if (realpath(p, real))
        use = real;
    const char *base = strrchr(use, '/');
    cs__fmt(out, cap, "%s", base ? base + 1 : use);
}

static bool cs__devnum_of(const cs_hw_config_t *cfg, const char *name, unsigned *maj, unsigned *min)
{
    char dir[CS_HW_PATH_MAX], buf[64];
    cs__fmt(dir, sizeof dir, "%s/class/block/%s", cfg->sysfs_root, name);
    int n = cs_hw_attr_read(dir, "dev", buf, sizeof buf);
    return n > 0 && cs_hw_attr_parse_devnum(buf, (size_t)n, maj, min) == 0;
}

static void cs__check_holders(cs__ctx_t *c, cs_hw_device_t *dev, const char *name, const char *dir)
{
    char hdir[CS_HW_PATH_MAX * 2];
    cs__fmt(hdir, sizeof hdir, "%s/holders", dir);
    char **h;
    int n = cs__list_dir(hdir, &h);
    if (n <= 0)
        return;
    char list[128] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(list);
        cs__fmt(list + used, sizeof list - used, "%s%s", i ? ", " : "", h[i]);
    }
    bool md = cs__has_prefix(h[0], "md");
    cs_hw_reason_add(&dev->in_use, "%s is held by %s (%s member)", name, list,
                     md                            ? "md RAID"
                     : cs__has_prefix(h[0], "dm-") ? "device-mapper/LVM"
                                                   : "kernel");
    cs__free_list(h, n);
    (void)c;
}

static bool cs__check_mounts(cs__ctx_t *c, cs_hw_device_t *dev, const char *name)
{
    unsigned maj = 0, min = 0;
    bool have_num = cs__devnum_of(c->cfg, name, &maj, &min);
    if (strcmp(name, dev->name) == 0 && (dev->major || dev->minor)) {
        maj = dev->major;
        min = dev->minor;
        have_num = true;
    }
    bool found = false;
    for (size_t i = 0; i < c->nmounts; i++) {
        const cs_hw_mount_t *m = &c->mounts[i];
        bool match = have_num && m->major == maj && m->minor == min && maj != 0;
        if (!match) {
            char src[CS_HW_NAME_MAX * 4];
            cs__dev_name(c->cfg, m->source, src, sizeof src);
            match = src[0] && strcmp(src, name) == 0;
        }
        if (match) {
            cs_hw_reason_add(&dev->in_use, "%s mounted at %s (%s)", name, m->target, m->fstype);
            found = true;
        }
    }
    for (size_t i = 0; i < c->nswaps; i++) {
        char src[CS_HW_NAME_MAX * 4];
        cs__dev_name(c->cfg, c->swaps[i], src, sizeof src);
        if (src[0] && strcmp(src, name) == 0) {
            cs_hw_reason_add(&dev->in_use, "%s is active swap", name);
            found = true;
        }
    }
    return found;
}

/* Reads the first and last blocks of the device, read-only, and looks for
 * signatures. Returns 1 when some were found, 0 when none, -1 when the
 * device could not be read (the reason says why). */
static int cs__check_signatures(cs__ctx_t *c, cs_hw_device_t *dev)
{
    int fd = open(dev->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        cs_hw_reason_add(&dev->in_use, "cannot read %s to check for signatures (%s)%s", dev->path, strerror(e),
                         (e == EACCES || e == EPERM) && geteuid() != 0 ? ": run as root" : "");
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !(S_ISBLK(st.st_mode) || S_ISREG(st.st_mode))) {
        close(fd);
        cs_hw_reason_add(&dev->in_use, "%s is not a block device; signatures not checked", dev->path);
        return -1;
    }
    uint8_t *head = calloc(1, CS_HW_SIG_HEAD), *tail = calloc(1, CS_HW_SIG_TAIL);
    bool ok = head && tail;
    size_t hl = 0, tl = 0;
    uint64_t toff = 0;
    while (ok && hl < CS_HW_SIG_HEAD) {
        ssize_t r = pread(fd, head + hl, CS_HW_SIG_HEAD - hl, (off_t)hl);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cs_hw_reason_add(&dev->in_use, "cannot read %s to check for signatures (%s)", dev->path, strerror(errno));
            ok = false;
        }
        if (r <= 0)
            break;
        hl += (size_t)r;
    }
    if (ok && dev->size_bytes > CS_HW_SIG_HEAD) {
        toff = dev->size_bytes - CS_HW_SIG_TAIL;
        while (tl < CS_HW_SIG_TAIL) {
            ssize_t r = pread(fd, tail + tl, CS_HW_SIG_TAIL - tl, (off_t)(toff + tl));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            tl += (size_t)r;
        }
    }
    close(fd);
    int result = -1;
    if (ok) {
        char found[CS_HW_REASON_MAX];
        /* A regular file standing in for a device (tests) reads short:
         * the rest of the device is treated as zeros, i.e. no signature. */
        result = cs_hw_signatures_detect(head, hl, tail, tl, toff, dev->size_bytes, found, sizeof found - 64) > 0;
        if (result)
            cs_hw_reason_add(&dev->in_use, "signatures found: %s", found);
    } else if (!head || !tail) {
        cs_hw_reason_add(&dev->in_use, "out of memory checking %s for signatures", dev->path);
    }
    free(head);
    free(tail);
    return result;
}

static void cs__check_in_use(cs__ctx_t *c, cs_hw_device_t *dev)
{
    char devdir[CS_HW_PATH_MAX];
    cs__fmt(devdir, sizeof devdir, "%s/class/block/%s", c->cfg->sysfs_root, dev->name);
    cs__check_mounts(c, dev, dev->name);
    if (dev->npartitions) {
        char list[160] = "";
        for (int i = 0; i < dev->npartitions; i++) {
            size_t used = strlen(list);
            cs__fmt(list + used, sizeof list - used, "%s%s", i ? ", " : "", dev->partitions[i]);
        }
        cs_hw_reason_add(&dev->in_use, "has partitions: %s", list);
    }
    for (int i = 0; i < dev->npartitions; i++) {
        char pdir[CS_HW_PATH_MAX + CS_HW_NAME_MAX + 2];
        cs__fmt(pdir, sizeof pdir, "%s/%s", devdir, dev->partitions[i]);
        cs__check_mounts(c, dev, dev->partitions[i]);
        cs__check_holders(c, dev, dev->partitions[i], pdir);
    }
    cs__check_holders(c, dev, dev->name, devdir);
    bool in_use = dev->in_use.count > 0;
    if (!c->mounts)
        cs_hw_reason_add(&dev->in_use, "mount table unreadable; cannot prove %s is unmounted", dev->name);
    int sig = cs__check_signatures(c, dev);
    dev->signatures_checked = sig >= 0;
    if (in_use || sig > 0)
        dev->status = CS_HW_STATUS_IN_USE;
    else if (sig < 0 || !c->mounts)
        dev->status = CS_HW_STATUS_UNVERIFIED;
}

/* ---- tools ---- */

static bool cs__tool_usable(const char *path)
{
    return path && path[0] == '/' && access(path, X_OK) == 0;
}

static void cs__names_of(cs_hw_inventory_t *inv, bool nvme, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < inv->count; i++) {
        cs_hw_device_t *d = &inv->devices[i];
        if (d->is_virtual || (d->media == CS_HW_MEDIA_NVME) != nvme)
            continue;
        size_t used = strlen(out);
        cs__fmt(out + used, cap - used, "%s%s", used ? ", " : "", d->name);
    }
}

static void cs__nvme_list(cs__ctx_t *c)
{
    char *argv[] = {(char *)c->cfg->nvme_path, "list", "-o", "json", NULL};
    cs_hw_run_result_t res;
    cs_err_t e = {0};
    int rc = cs_hw_run(argv, c->cfg->tool_timeout_ns, c->cfg->tool_output_max, &res, &e);
    if (rc == 0 && res.exit_status != 0)
        rc = cs_err_set(&e, CS_ENVME_COMMAND, "exit status %d: %s", res.exit_status,
                        res.errtext[0] ? res.errtext : "(no message)");
    cs_hw_nvme_ns_t *ns = NULL;
    size_t n = 0;
    if (rc == 0) {
        ns = calloc(256, sizeof *ns);
        rc = ns ? cs_hw_nvme_list_parse(res.out, res.out_len, ns, 256, &n, &e) : CS_ENOMEM;
    }
    if (rc != 0) {
        cs_hw_inventory_warn(c->inv,
                             "nvme-cli: `nvme list` failed: %s; NVMe model, serial and "
                             "firmware come from sysfs",
                             e.msg[0] ? e.msg : cs_strerror(rc));
    }
    for (size_t i = 0; i < n; i++) {
        cs_hw_device_t *dev = cs__find(c->inv, ns[i].device);
        if (!dev)
            continue;
        if (!dev->model[0])
            cs__fmt(dev->model, sizeof dev->model, "%s", ns[i].model);
        if (!dev->serial[0])
            cs__fmt(dev->serial, sizeof dev->serial, "%s", ns[i].serial);
        if (!dev->firmware[0])
            cs__fmt(dev->firmware, sizeof dev->firmware, "%s", ns[i].firmware);
    }
    free(ns);
    cs_hw_run_result_free(&res);
}

static void cs__nvme_health(cs__ctx_t *c, cs_hw_device_t *dev)
{
    char path[CS_HW_PATH_MAX + CS_HW_NAME_MAX];
    cs__fmt(path, sizeof path, "%s/%s", c->cfg->dev_root, dev->controller[0] ? dev->controller : dev->name);
    char *argv[] = {(char *)c->cfg->nvme_path, "smart-log", path, "-o", "json", NULL};
    cs_hw_run_result_t res;
    cs_err_t e = {0};
    int rc = cs_hw_run(argv, c->cfg->tool_timeout_ns, c->cfg->tool_output_max, &res, &e);
    if (rc == 0 && res.exit_status != 0)
        rc = cs_err_set(&e, CS_ENVME_COMMAND, "exit status %d: %s", res.exit_status,
                        res.errtext[0] ? res.errtext : "(no message)");
    if (rc == 0) {
        cs_hw_health_info_t h;
        cs__hw_health_init(&h);
        rc = cs_hw_nvme_smart_parse(res.out, res.out_len, &h, &e);
        if (rc == 0)
            dev->health = h;
    }
    if (rc != 0)
        cs_hw_inventory_warn(c->inv, "nvme-cli on %s (%s): %s; health of %s unknown", path, dev->name,
                             e.msg[0] ? e.msg : cs_strerror(rc), dev->name);
    cs_hw_run_result_free(&res);
}

static int cs__smart_rotation(cs__ctx_t *c, cs_hw_device_t *dev)
{
    char *argv[] = {(char *)c->cfg->smartctl_path, "-j", "-a", dev->path, NULL};
    cs_hw_run_result_t res;
    cs_err_t e = {0};
    int rotation = -1;
    int rc = cs_hw_run(argv, c->cfg->tool_timeout_ns, c->cfg->tool_output_max, &res, &e);
    if (rc != 0) {
        cs_hw_inventory_warn(c->inv, "smartctl on %s: %s; health of %s unknown", dev->path, e.msg, dev->name);
        cs_hw_run_result_free(&res);
        return -1;
    }
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    cs_err_t pe = {0};
    int prc = cs_hw_smart_parse(res.out, res.out_len, &s, &pe);
    int status = res.exit_status;
    if (status & 0x03) {
        char bits[256] = "";
        for (int b = 0; b < 2; b++)
            if (status & (1 << b)) {
                size_t used = strlen(bits);
                cs__fmt(bits + used, sizeof bits - used, "%s%s", used ? "; " : "", cs_hw_smart_exit_bit_meaning(b));
            }
        cs_hw_inventory_warn(c->inv, "smartctl on %s: exit status %d (%s)%s%s; health of %s unknown", dev->path, status,
                             bits, s.message[0] ? ": " : "", s.message, dev->name);
    } else if (prc != 0) {
        cs_hw_inventory_warn(c->inv, "smartctl on %s: exit status %d, %s; health of %s unknown", dev->path, status,
                             pe.msg, dev->name);
    } else {
        s.health.smartctl_exit_status = status;
        dev->health = s.health;
        cs_hw_smart_apply_exit_status(status, &dev->health, &dev->excluded);
        if (dev->health.source[0] == '\0')
            cs__fmt(dev->health.source, sizeof dev->health.source, "smartctl");
        if (dev->health.state == CS_HW_HEALTH_UNKNOWN)
            dev->health.state = CS_HW_HEALTH_OK;
        /* smartctl reads the full ATA model (sysfs truncates it to 16 bytes);
         * a SAS device keeps the sysfs model unless it has none. */
        if (s.model[0] && (strcmp(dev->transport, "sas") != 0 || !dev->model[0]))
            cs__fmt(dev->model, sizeof dev->model, "%s", s.model);
        if (s.serial[0])
            cs__fmt(dev->serial, sizeof dev->serial, "%s", s.serial);
        if (s.firmware[0] && !dev->firmware[0])
            cs__fmt(dev->firmware, sizeof dev->firmware, "%s", s.firmware);
        rotation = s.rotation_rate;
    }
    cs_hw_run_result_free(&res);
    return rotation;
}

static void cs__health(cs__ctx_t *c)
{
    const cs_hw_config_t *cfg = c->cfg;
    bool have_nvme = false, have_other = false;
    for (size_t i = 0; i < c->inv->count; i++) {
        cs_hw_device_t *d = &c->inv->devices[i];
        d->media = cs_hw_classify_media(d, -1);
        if (d->is_virtual)
            continue;
        if (d->media == CS_HW_MEDIA_NVME)
            have_nvme = true;
        else
            have_other = true;
    }
    bool nvme_ok = cfg->nvme_path && cfg->nvme_path[0] && cs__tool_usable(cfg->nvme_path);
    bool smart_ok = cfg->smartctl_path && cfg->smartctl_path[0] && cs__tool_usable(cfg->smartctl_path);
    char names[512];
    if (have_nvme && !nvme_ok && cfg->nvme_path && cfg->nvme_path[0]) {
        cs__names_of(c->inv, true, names, sizeof names);
        cs_hw_inventory_warn(c->inv,
                             "nvme-cli not found at %s (install package nvme-cli, or "
                             "give --nvme PATH): %s%s",
                             cfg->nvme_path, smart_ok ? "using smartctl for " : "health unknown for ", names);
    }
    if ((have_other || (have_nvme && !nvme_ok)) && !smart_ok && cfg->smartctl_path && cfg->smartctl_path[0]) {
        cs__names_of(c->inv, false, names, sizeof names);
        if (have_nvme && !nvme_ok) {
            char more[512];
            cs__names_of(c->inv, true, more, sizeof more);
            size_t used = strlen(names);
            cs__fmt(names + used, sizeof names - used, "%s%s", used && more[0] ? ", " : "", more);
        }
        cs_hw_inventory_warn(c->inv,
                             "smartctl not found at %s (install package smartmontools, "
                             "or give --smartctl PATH): health unknown for %s",
                             cfg->smartctl_path, names);
    }
    if (have_nvme && nvme_ok)
        cs__nvme_list(c);
    for (size_t i = 0; i < c->inv->count; i++) {
        cs_hw_device_t *d = &c->inv->devices[i];
        if (d->is_virtual)
            continue;
        int rotation = -1;
        if (d->media == CS_HW_MEDIA_NVME && nvme_ok)
            cs__nvme_health(c, d);
        else if (smart_ok)
            rotation = cs__smart_rotation(c, d);
        d->media = cs_hw_classify_media(d, rotation);
    }
}

static void cs__decide(cs__ctx_t *c, cs_hw_device_t *dev)
{
    const cs_hw_config_t *cfg = c->cfg;
    cs_hw_classify_tier(dev, cfg->overrides, cfg->noverrides);
    cs_hw_classify_health(dev, cfg);
    if (dev->is_virtual)
        cs_hw_reason_add(&dev->excluded, "virtual device (loop, ram, zram or device-mapper)");
    if (dev->removable)
        cs_hw_reason_add(&dev->excluded, "removable media");
    if (dev->read_only)
        cs_hw_reason_add(&dev->excluded, "read-only");
    if (dev->size_bytes == 0)
        cs_hw_reason_add(&dev->excluded, "size is 0 or unknown (no medium?)");
    if (dev->tier == CS_HW_TIER_NONE)
        cs_hw_reason_add(&dev->excluded, "tier set to none by %s", dev->tier_source);
    if (dev->tier == CS_HW_TIER_UNKNOWN)
        cs_hw_reason_add(&dev->excluded, "media type unknown: give --tier-override %s=TIER", dev->name);
    /* In use says the most (data is at stake), then excluded, then unverified. */
    if (dev->status != CS_HW_STATUS_IN_USE && dev->excluded.count)
        dev->status = CS_HW_STATUS_EXCLUDED;
    dev->poolable = dev->status == CS_HW_STATUS_AVAILABLE;
    dev->candidate = dev->poolable || (cfg->include_in_use && dev->excluded.count == 0 &&
                                       (dev->status == CS_HW_STATUS_IN_USE || dev->status == CS_HW_STATUS_UNVERIFIED));
}

int cs_hw_discover(const cs_hw_config_t *cfg_in, cs_hw_inventory_t *inv, cs_err_t *err)
{
    cs_hw_config_t defaults;
    cs_hw_config_init(&defaults);
    cs_hw_config_t cfg = cfg_in ? *cfg_in : defaults;
    if (!cfg.sysfs_root)
        cfg.sysfs_root = defaults.sysfs_root;
    if (!cfg.proc_root)
        cfg.proc_root = defaults.proc_root;
    if (!cfg.dev_root)
        cfg.dev_root = defaults.dev_root;
    if (cfg.tool_timeout_ns <= 0)
        cfg.tool_timeout_ns = defaults.tool_timeout_ns;
    if (cfg.tool_output_max == 0)
        cfg.tool_output_max = defaults.tool_output_max;
    memset(inv, 0, sizeof *inv);
    const char *roots[] = {cfg.sysfs_root, cfg.proc_root, cfg.dev_root};
    for (size_t i = 0; i < 3; i++)
        if (strlen(roots[i]) > 256)
            return cs_err_set(err, CS_EINVAL, "root directory '%.64s...' is longer than 256 bytes", roots[i]);
    cs__ctx_t c = {.cfg = &cfg, .inv = inv};
    int rc = cs__scan_block(&c, err);
    if (rc != 0) {
        cs_hw_inventory_free(inv);
        return rc;
    }
    cs__scan_nvme(&c);
    cs__scan_by_id(&c);
    cs__load_proc(&c);
    cs__health(&c);
    for (size_t i = 0; i < inv->count; i++) {
        cs_hw_device_t *d = &inv->devices[i];
        if (d->is_virtual)
            d->status = CS_HW_STATUS_AVAILABLE;
        else
            cs__check_in_use(&c, d);
        cs__decide(&c, d);
    }
    free(c.mounts);
    free(c.swaps);
    return 0;
}
