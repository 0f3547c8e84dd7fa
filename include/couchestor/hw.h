/* hw.h: hardware discovery: this node's disks from sysfs, their details and
 * health from nvme-cli and smartctl, whether each is in use, a suggested
 * storage tier, and DiskPool manifests for the ones that can hold a pool.
 *
 * The header is split by how much the caller needs:
 *   1. discovery: cs_hw_config_init, cs_hw_discover, cs_hw_inventory_free;
 *   2. output: table, JSON and DiskPool YAML renderings of an inventory;
 *   3. building blocks (parsers, the tool runner, the classifier), public so
 *      that tests and fuzzers drive them directly.
 *
 * Safety: discovery never writes to a device. It opens block devices
 * read-only, and only to look for signatures in their first and last blocks.
 * A device is offered for a pool only when nothing suggests it holds data:
 * a DiskPool on the wrong disk destroys that data. */
#ifndef COUCHESTOR_HW_H
#define COUCHESTOR_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "couchestor/error.h"

/* ---------------------------------------------------------------------------
 * 1. Discovery
 * ------------------------------------------------------------------------ */

typedef enum cs_hw_tier {
    CS_HW_TIER_UNKNOWN = 0,
    CS_HW_TIER_HOT,
    CS_HW_TIER_WARM,
    CS_HW_TIER_COLD,
    CS_HW_TIER_NONE, /* an override that keeps the device out of every pool */
} cs_hw_tier_t;

typedef enum cs_hw_media {
    CS_HW_MEDIA_UNKNOWN = 0,
    CS_HW_MEDIA_NVME,
    CS_HW_MEDIA_SSD,
    CS_HW_MEDIA_HDD,
} cs_hw_media_t;

typedef enum cs_hw_health {
    CS_HW_HEALTH_UNKNOWN = 0, /* no tool answered for this device */
    CS_HW_HEALTH_OK,
    CS_HW_HEALTH_WARNING, /* usable, but a person should look (notes say why) */
    CS_HW_HEALTH_FAILED,  /* excluded from pools (excluded reasons say why) */
} cs_hw_health_t;

/* Why a device is or is not offered for a pool. When several apply, in-use
 * wins over excluded, and excluded over unverified. */
typedef enum cs_hw_status {
    CS_HW_STATUS_AVAILABLE = 0, /* healthy, verified unused: a pool candidate */
    CS_HW_STATUS_EXCLUDED,      /* unhealthy, removable, read-only, empty or overridden to none */
    CS_HW_STATUS_IN_USE,        /* mounted, partitioned, signed, swap, or held by dm/md */
    CS_HW_STATUS_UNVERIFIED,    /* its first blocks could not be read, so "unused" is unproven */
} cs_hw_status_t;

/* A tier override: the first whose pattern matches the device name or (as a
 * case-insensitive glob) its model wins. Both strings are borrowed. */
typedef struct cs_hw_tier_override_s {
    const char *pattern; /* "sdb", "nvme*", "*EXOS*" (fnmatch syntax) */
    cs_hw_tier_t tier;
} cs_hw_tier_override_t;

/* Configuration of one discovery run. Every pointer is borrowed and must stay
 * valid for the duration of cs_hw_discover. */
typedef struct cs_hw_config_s {
    const char *sysfs_root;    /* "/sys" */
    const char *proc_root;     /* "/proc": self/mountinfo and swaps */
    const char *dev_root;      /* "/dev": device nodes and disk/by-id */
    const char *nvme_path;     /* "/usr/sbin/nvme"; NULL or "" = do not run */
    const char *smartctl_path; /* "/usr/sbin/smartctl"; NULL or "" = do not run */
    int64_t tool_timeout_ns;   /* per tool invocation; 10 s */
    size_t tool_output_max;    /* bytes of stdout kept per invocation; 4 MiB */
    const cs_hw_tier_override_t *overrides;
    size_t noverrides;
    uint64_t media_error_threshold; /* more media errors than this = excluded; 0 */
    int percent_used_limit;         /* NVMe/SSD endurance used >= this = excluded; 90 */
    bool include_virtual;           /* also list loop, ram, zram and dm devices */
    bool include_in_use;            /* in-use devices are shown as candidates too */
} cs_hw_config_t;

/* Fills cfg with the defaults above. */
void cs_hw_config_init(cs_hw_config_t *cfg);

#define CS_HW_NAME_MAX 64
#define CS_HW_PATH_MAX 512
#define CS_HW_TEXT_MAX 128
#define CS_HW_REASON_MAX 192
#define CS_HW_REASONS_MAX 8
#define CS_HW_PARTS_MAX 16

typedef struct cs_hw_reasons_s {
    char text[CS_HW_REASONS_MAX][CS_HW_REASON_MAX];
    int count; /* further reasons beyond CS_HW_REASONS_MAX are dropped */
} cs_hw_reasons_t;

/* Health as read from nvme-cli or smartctl. -1 (or UINT64_MAX) = unknown. */
typedef struct cs_hw_health_info_s {
    cs_hw_health_t state;
    char source[16];          /* "nvme-cli", "smartctl" or "" */
    int temperature_c;        /* INT32_MIN when unknown */
    int percent_used;         /* endurance used, 0..255; -1 unknown */
    uint64_t media_errors;    /* UINT64_MAX unknown */
    uint64_t power_on_hours;  /* UINT64_MAX unknown */
    int critical_warning;     /* NVMe critical warning byte; -1 unknown */
    int smartctl_exit_status; /* -1 when smartctl did not run to completion */
    int smart_passed;         /* 1 passed, 0 failed, -1 unknown */
    cs_hw_reasons_t notes;    /* warnings that do not exclude the device */
} cs_hw_health_info_t;

typedef struct cs_hw_device_s {
    char name[CS_HW_NAME_MAX];  /* "sdb", "nvme0n1" */
    char path[CS_HW_PATH_MAX];  /* "/dev/sdb" (under dev_root) */
    char by_id[CS_HW_PATH_MAX]; /* "/dev/disk/by-id/..." or "" */
    unsigned major, minor;
    uint64_t size_bytes;
    uint32_t logical_block_size, physical_block_size; /* 0 unknown */
    int rotational;                                   /* 1, 0, or -1 unknown */
    bool removable, read_only, is_virtual;
    char model[CS_HW_TEXT_MAX], serial[CS_HW_TEXT_MAX], firmware[CS_HW_NAME_MAX];
    char wwid[CS_HW_TEXT_MAX];
    char transport[16];              /* pcie, tcp, rdma, fc, sata, sas, usb, virtio, scsi, ... */
    char controller[CS_HW_NAME_MAX]; /* NVMe controller ("nvme0") or "" */
    int numa_node;                   /* -1 unknown */
    char partitions[CS_HW_PARTS_MAX][CS_HW_NAME_MAX];
    int npartitions;
    cs_hw_media_t media;
    cs_hw_tier_t tier;                /* suggested tier (after overrides) */
    char tier_source[CS_HW_TEXT_MAX]; /* "nvme", "non-rotational", "override 'PATTERN'", ... */
    cs_hw_health_info_t health;
    cs_hw_status_t status;
    bool signatures_checked;
    cs_hw_reasons_t in_use;   /* why it is in use (or unverified) */
    cs_hw_reasons_t excluded; /* why it is excluded */
    bool candidate;           /* shown as a candidate (status available, or in use with include_in_use) */
    bool poolable;            /* --diskpools will write a manifest for it */
} cs_hw_device_t;

typedef struct cs_hw_inventory_s {
    cs_hw_device_t *devices; /* sorted by name */
    size_t count;
    char **warnings; /* "smartctl on /dev/sdb: timed out after 10s: ..." */
    size_t nwarnings;
} cs_hw_inventory_t;

/* Scans the machine described by cfg into inv (zero it first). Tools that are
 * missing, time out or print what cannot be parsed degrade the device to what
 * sysfs knows and add a warning naming the device and the tool; that is not
 * an error. Fails (CS_EHARDWARE_DISCOVERY, CS_ENOMEM) only when the block
 * class directory cannot be listed or memory runs out; then inv is left
 * empty. Free inv with cs_hw_inventory_free in every case. */
int cs_hw_discover(const cs_hw_config_t *cfg, cs_hw_inventory_t *inv, cs_err_t *err);

/* Frees what inv owns and zeroes it; NULL is a no-op. */
void cs_hw_inventory_free(cs_hw_inventory_t *inv);

/* Adds a printf-formatted warning to inv; returns 0 or CS_ENOMEM. */
int cs_hw_inventory_warn(cs_hw_inventory_t *inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *cs_hw_tier_name(cs_hw_tier_t tier);       /* "hot", ..., "none", "unknown" */
const char *cs_hw_media_name(cs_hw_media_t media);    /* "nvme", "ssd", "hdd", "unknown" */
const char *cs_hw_health_name(cs_hw_health_t health); /* "ok", "warning", "failed", "unknown" */
const char *cs_hw_status_name(cs_hw_status_t status); /* "available", "excluded", "in-use", "unverified" */

/* "hot" | "warm" | "cold" | "none". */
int cs_hw_tier_parse(const char *text, cs_hw_tier_t *out, cs_err_t *err);

/* Parses "PATTERN=TIER" (the --tier-override flag). The pattern in out
 * points into text, which is modified in place (the '=' becomes NUL). */
int cs_hw_tier_override_parse(char *text, cs_hw_tier_override_t *out, cs_err_t *err);

/* ---------------------------------------------------------------------------
 * 2. Output. Each writes to f and returns 0 or CS_EIO when f fails.
 * ------------------------------------------------------------------------ */

/* A table for people: one row per device, the reasons in the last column,
 * then a one-line summary. */
int cs_hw_render_table(const cs_hw_inventory_t *inv, FILE *f);

/* One JSON document: {"devices": [...], "warnings": [...]}; see docs/discover.md. */
int cs_hw_render_json(const cs_hw_inventory_t *inv, FILE *f, cs_err_t *err);

/* DiskPool manifests (openebs.io/v1beta2), one YAML document per poolable
 * device, for node in namespace. Validates node (DNS-1123 subdomain) and
 * namespace (DNS-1123 label): CS_EINVAL. *written is the number of
 * manifests (may be 0; the caller decides whether that is an error). */
int cs_hw_render_diskpools(const cs_hw_inventory_t *inv, const char *node, const char *ns, FILE *f, size_t *written,
                           cs_err_t *err);

/* Checks node (DNS-1123 subdomain) and namespace (DNS-1123 label) before any
 * work is done; CS_EINVAL with a message naming the flag otherwise. */
int cs_hw_diskpool_check_names(const char *node, const char *ns, cs_err_t *err);

/* The DiskPool name for a device on node: "<node>-<device>", lower case,
 * at most 63 characters (a longer one keeps a prefix and appends a hash). */
void cs_hw_pool_name(const char *node, const char *device, char *out, size_t cap);

/* ---------------------------------------------------------------------------
 * 3. Building blocks
 * ------------------------------------------------------------------------ */

/* --- sysfs attributes (untrusted bytes: bounded, fuzzed) --- */

/* Attribute files longer than this are treated as malformed. */
#define CS_HW_ATTR_MAX 4096

/* Reads dir/name into buf (at most cap-1 bytes, NUL-terminated, trailing
 * whitespace removed). Returns the length, or a negative code: CS_ENOTFOUND
 * when absent, CS_ETOOBIG when longer than cap-1, CS_EIO otherwise. */
int cs_hw_attr_read(const char *dir, const char *name, char *buf, size_t cap);

/* Parses a decimal unsigned integer surrounded by optional whitespace.
 * CS_EPARSE on anything else (sign, hex, trailing text, overflow). */
int cs_hw_attr_parse_u64(const char *text, size_t len, uint64_t *out);

/* Parses "MAJOR:MINOR". */
int cs_hw_attr_parse_devnum(const char *text, size_t len, unsigned *major, unsigned *minor);

/* Copies a text attribute (model, serial) into out: leading/trailing spaces
 * removed, inner runs of spaces kept as one, bytes outside printable ASCII
 * replaced by '?'. Returns the length written. */
size_t cs_hw_attr_clean(const char *text, size_t len, char *out, size_t cap);

/* Extracts the serial number from a SCSI VPD page 0x80 (sysfs vpd_pg80).
 * CS_EPARSE when the page is short or not page 0x80. */
int cs_hw_vpd80_serial(const uint8_t *page, size_t len, char *out, size_t cap);

/* --- /proc parsing (untrusted bytes: bounded, fuzzed) --- */

typedef struct cs_hw_mount_s {
    unsigned major, minor;
    char source[CS_HW_PATH_MAX]; /* "/dev/sda2" */
    char target[CS_HW_PATH_MAX]; /* "/boot/efi" (octal escapes decoded) */
    char fstype[32];
} cs_hw_mount_t;

/* Parses /proc/self/mountinfo text into out[0..cap). Malformed lines are
 * skipped; *count is the number stored, *skipped the number of bad lines. */
int cs_hw_mountinfo_parse(const char *text, size_t len, cs_hw_mount_t *out, size_t cap, size_t *count, size_t *skipped);

/* Parses /proc/swaps: stores the first column of each entry after the
 * header into out[i] (CS_HW_PATH_MAX bytes each). */
int cs_hw_swaps_parse(const char *text, size_t len, char (*out)[CS_HW_PATH_MAX], size_t cap, size_t *count);

/* --- on-disk signatures (untrusted bytes: bounded, fuzzed) --- */

#define CS_HW_SIG_HEAD 139264 /* bytes read from the start of a device: 136 KiB */
#define CS_HW_SIG_TAIL 131072 /* bytes read from the end: 128 KiB */

/* Looks for partition tables (MBR, GPT), filesystems (ext2/3/4, XFS, btrfs,
 * vfat, NTFS, ZFS), LVM2, Linux RAID (md 0.90/1.x), swap, LUKS and Ceph
 * BlueStore signatures. head holds the device's first head_len bytes; tail
 * holds tail_len bytes starting at tail_offset; size is the device size.
 * Writes the names found ("gpt, ext4") to out; returns how many. */
int cs_hw_signatures_detect(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len,
                            uint64_t tail_offset, uint64_t size, char *out, size_t cap);

/* --- external tools --- */

typedef struct cs_hw_run_result_s {
    char *out; /* stdout, NUL-terminated; owned, free with cs_hw_run_result_free */
    size_t out_len;
    char errtext[512]; /* first bytes of stderr, trailing whitespace removed */
    int exit_status;   /* 0..255, or -1 when killed or not started */
    int term_signal;   /* signal that ended the child, or 0 */
} cs_hw_run_result_t;

/* Runs argv[0] (an absolute path; no shell, no PATH search) with argv, stdin
 * from /dev/null, in its own process group. Keeps at most output_max bytes of
 * stdout. Returns 0 when the child exited on its own (any status: see
 * res->exit_status); CS_ENOTFOUND when the program does not exist or is not
 * executable; CS_ETIMEOUT when it ran longer than timeout_ns (the whole
 * process group is killed); CS_ETOOBIG when stdout exceeded output_max (also
 * killed); CS_EIO when it died from a signal or could not be started. err
 * names the program. res is always safe to free. */
int cs_hw_run(char *const argv[], int64_t timeout_ns, size_t output_max, cs_hw_run_result_t *res, cs_err_t *err);

/* Frees res->out and zeroes res. NULL is a no-op. */
void cs_hw_run_result_free(cs_hw_run_result_t *res);

/* --- nvme-cli JSON (untrusted bytes: bounded, fuzzed) --- */

typedef struct cs_hw_nvme_ns_s {
    char device[CS_HW_NAME_MAX]; /* "nvme0n1" (basename of DevicePath) */
    char model[CS_HW_TEXT_MAX], serial[CS_HW_TEXT_MAX], firmware[CS_HW_NAME_MAX];
    uint64_t physical_size; /* bytes, 0 unknown */
    uint32_t sector_size;   /* bytes, 0 unknown */
} cs_hw_nvme_ns_t;

/* Parses `nvme list -o json` (nvme-cli 1.x/2.x: {"Devices":[{...}]}) into
 * out[0..cap). Entries without a DevicePath are skipped. */
int cs_hw_nvme_list_parse(const char *text, size_t len, cs_hw_nvme_ns_t *out, size_t cap, size_t *count, cs_err_t *err);

/* Parses `nvme smart-log DEV -o json`: critical_warning (a number, or an
 * object with "value" in verbose output), temperature (Kelvin), percent_used,
 * media_errors, power_on_hours (numbers, floats or decimal strings). Fields
 * not present stay unknown; CS_EPARSE when the text is not a JSON object or
 * has none of these fields. Only the health fields of out are written. */
int cs_hw_nvme_smart_parse(const char *text, size_t len, cs_hw_health_info_t *out, cs_err_t *err);

/* --- smartctl JSON (untrusted bytes: bounded, fuzzed) --- */

typedef struct cs_hw_smart_s {
    char protocol[16]; /* "ATA", "SCSI", "NVMe" */
    char model[CS_HW_TEXT_MAX], serial[CS_HW_TEXT_MAX], firmware[CS_HW_NAME_MAX];
    int rotation_rate;              /* rpm; 0 = solid state; -1 unknown */
    cs_hw_health_info_t health;     /* source "smartctl" */
    int json_exit_status;           /* smartctl.exit_status, -1 if absent */
    char message[CS_HW_REASON_MAX]; /* first error message smartctl reported, or "" */
} cs_hw_smart_t;

/* Sets out to "unknown" everywhere. */
void cs_hw_smart_init(cs_hw_smart_t *out);

/* Parses `smartctl -j -a DEV` (smartctl 7.x). ATA media errors = raw values
 * of attributes 5 (reallocated), 197 (pending) and 198 (offline
 * uncorrectable); SCSI = total uncorrected read+write+verify errors plus the
 * grown defect list; NVMe = media_errors. CS_EPARSE when not a JSON object. */
int cs_hw_smart_parse(const char *text, size_t len, cs_hw_smart_t *out, cs_err_t *err);

/* smartctl's exit status is a bit mask (smartctl(8) "RETURN VALUES"):
 * bit 0 command line did not parse; 1 device open failed; 2 a SMART or
 * other command failed or a checksum was wrong; 3 SMART status "DISK
 * FAILING"; 4 prefail attributes at or below threshold; 5 attributes were at
 * or below threshold in the past; 6 the error log has errors; 7 the
 * self-test log has errors. Returns the meaning of one bit (0..7). */
const char *cs_hw_smart_exit_bit_meaning(int bit);

/* Folds exit status into health: bits 0-1 mean no data (returns CS_ESMART);
 * bit 2 adds a note (data may be partial); bits 3, 4 and 7 mark the device
 * failed (reasons appended to excluded); bits 5 and 6 add notes. */
int cs_hw_smart_apply_exit_status(int status, cs_hw_health_info_t *health, cs_hw_reasons_t *excluded);

/* --- classification --- */

/* Media from transport and rotation: NVMe -> nvme, rotational -> hdd,
 * non-rotational -> ssd. smart_rotation (rpm from smartctl, -1 unknown)
 * wins over sysfs when known. */
cs_hw_media_t cs_hw_classify_media(const cs_hw_device_t *dev, int smart_rotation);

/* Sets dev->tier and dev->tier_source: the first matching override, else
 * nvme -> hot, ssd -> warm, hdd -> cold. */
void cs_hw_classify_tier(cs_hw_device_t *dev, const cs_hw_tier_override_t *overrides, size_t n);

/* Applies the health limits of cfg to dev->health, appending to
 * dev->excluded: critical warning set, percent used >= limit, media errors
 * above threshold, SMART failed. */
void cs_hw_classify_health(cs_hw_device_t *dev, const cs_hw_config_t *cfg);

/* Appends a printf-formatted reason; reasons beyond CS_HW_REASONS_MAX are
 * dropped and an identical reason is not added twice. */
void cs_hw_reason_add(cs_hw_reasons_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
