/* cmd_discover.c: `couchestor discover`: this node's disks, their health and
 * tier, as a table, as JSON, or as DiskPool manifests. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/config.h"
#include "couchestor/duration.h"
#include "couchestor/error.h"
#include "couchestor/hw.h"

#include "commands.h"

#define CS__DISCOVER_MAX_OVERRIDES 64

/* The default of the mayastor_namespace key (src/core/config.c, the one place
 * it is written) into buf ("" if it cannot be had); a namespace is at most 63
 * bytes. Without --namespace the DiskPools go to MAYASTOR_NAMESPACE, as for the
 * operator, else to this. */
static const char *cs__discover_config_ns(char *buf, size_t len)
{
    cs_config_t defaults;
    cs_err_t err = {0};
    buf[0] = '\0';
    if (cs_config_init(&defaults, &err) == 0)
        snprintf(buf, len, "%s", defaults.mayastor_namespace);
    cs_config_free(&defaults);
    return buf;
}

static void cs__discover_help(FILE *f, const char *default_ns)
{
    fputs("Usage: couchestor discover [--json | --diskpools --node NAME [--namespace NS]] [OPTIONS]\n"
          "\n"
          "Lists this node's disks from sysfs with details and health from nvme-cli and\n"
          "smartctl, whether each is in use (and why), and the storage tier it suggests:\n"
          "NVMe -> hot, SSD -> warm, HDD -> cold. Devices never get written to.\n"
          "\n"
          "Output:\n"
          "  (default)                 a table for people; warnings go to stderr\n"
          "  --json                    one JSON document for machines\n"
          "  --diskpools               DiskPool manifests (openebs.io/v1beta2) for every\n"
          "                            healthy, unused disk; needs --node\n"
          "  --node NAME               the Kubernetes node name the pools belong to\n",
          f);
    fprintf(f,
            "  --namespace NS            namespace of the DiskPools, Mayastor's (default:\n"
            "                            MAYASTOR_NAMESPACE, else %s)\n",
            default_ns);
    fputs("\n"
          "Selection:\n"
          "  --include-in-use          show in-use devices as candidates too (their tier is\n"
          "                            shown); --diskpools still refuses them\n"
          "  --all                     also list loop, ram, zram and device-mapper devices\n"
          "  --tier-override PAT=TIER  force the tier of devices whose name, or model (case-\n"
          "                            insensitive), matches the glob PAT; TIER is hot, warm,\n"
          "                            cold or none (never pool it). Repeatable; first match wins\n"
          "  --media-error-threshold N exclude devices with more than N media errors (default 0)\n"
          "  --percent-used-limit N    exclude SSDs whose endurance used is >= N% (default 90)\n"
          "\n"
          "Sources:\n"
          "  --sysfs-root DIR          sysfs (default /sys; env COUCHESTOR_SYSFS_ROOT)\n"
          "  --proc-root DIR           procfs (default /proc; env COUCHESTOR_PROC_ROOT)\n"
          "  --dev-root DIR            device nodes (default /dev; env COUCHESTOR_DEV_ROOT)\n"
          "  --nvme PATH               nvme-cli (default /usr/sbin/nvme; env COUCHESTOR_NVME);\n"
          "                            an empty PATH skips it\n"
          "  --smartctl PATH           smartctl (default /usr/sbin/smartctl; env\n"
          "                            COUCHESTOR_SMARTCTL); an empty PATH skips it\n"
          "  --tool-timeout DURATION   limit per tool run, e.g. 10s, 500ms (default 10s)\n"
          "  -h, --help                this help\n"
          "\n"
          "Exit status: 0 ok; 1 discovery failed, or --diskpools found no usable disk;\n"
          "2 usage error. See docs/discover.md.\n",
          f);
}

static int cs__discover_usage(const char *fmt, const char *arg)
{
    fputs("couchestor discover: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'couchestor discover --help'.\n", stderr);
    return 2;
}

static const char *cs__env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v ? v : fallback;
}

int cs_cmd_discover(int argc, char **argv)
{
    enum {
        OPT_JSON = 256,
        OPT_DISKPOOLS,
        OPT_NODE,
        OPT_NAMESPACE,
        OPT_INCLUDE_IN_USE,
        OPT_ALL,
        OPT_SYSFS,
        OPT_PROC,
        OPT_DEV,
        OPT_NVME,
        OPT_SMARTCTL,
        OPT_TIMEOUT,
        OPT_OVERRIDE,
        OPT_MEDIA_ERRORS,
        OPT_PERCENT_USED,
    };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"diskpools", no_argument, NULL, OPT_DISKPOOLS},
        {"node", required_argument, NULL, OPT_NODE},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"include-in-use", no_argument, NULL, OPT_INCLUDE_IN_USE},
        {"all", no_argument, NULL, OPT_ALL},
        {"sysfs-root", required_argument, NULL, OPT_SYSFS},
        {"proc-root", required_argument, NULL, OPT_PROC},
        {"dev-root", required_argument, NULL, OPT_DEV},
        {"nvme", required_argument, NULL, OPT_NVME},
        {"smartctl", required_argument, NULL, OPT_SMARTCTL},
        {"tool-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"tier-override", required_argument, NULL, OPT_OVERRIDE},
        {"media-error-threshold", required_argument, NULL, OPT_MEDIA_ERRORS},
        {"percent-used-limit", required_argument, NULL, OPT_PERCENT_USED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cs_hw_config_t cfg;
    cs_hw_config_init(&cfg);
    cfg.sysfs_root = cs__env_or("COUCHESTOR_SYSFS_ROOT", cfg.sysfs_root);
    cfg.proc_root = cs__env_or("COUCHESTOR_PROC_ROOT", cfg.proc_root);
    cfg.dev_root = cs__env_or("COUCHESTOR_DEV_ROOT", cfg.dev_root);
    cfg.nvme_path = cs__env_or("COUCHESTOR_NVME", cfg.nvme_path);
    cfg.smartctl_path = cs__env_or("COUCHESTOR_SMARTCTL", cfg.smartctl_path);
    cs_hw_tier_override_t overrides[CS__DISCOVER_MAX_OVERRIDES];
    size_t noverrides = 0;
    bool json = false, diskpools = false;
    char ns_buf[64];
    const char *default_ns = cs__discover_config_ns(ns_buf, sizeof ns_buf);
    const char *env_ns = getenv("MAYASTOR_NAMESPACE");
    const char *node = NULL, *ns = env_ns && *env_ns ? env_ns : default_ns;
    cs_err_t err = {0};

    optind = 0; /* GNU: reinitialise, argv may differ from a previous parse */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            json = true;
            break;
        case OPT_DISKPOOLS:
            diskpools = true;
            break;
        case OPT_NODE:
            node = optarg;
            break;
        case OPT_NAMESPACE:
            ns = optarg;
            break;
        case OPT_INCLUDE_IN_USE:
            cfg.include_in_use = true;
            break;
        case OPT_ALL:
            cfg.include_virtual = true;
            break;
        case OPT_SYSFS:
            cfg.sysfs_root = optarg;
            break;
        case OPT_PROC:
            cfg.proc_root = optarg;
            break;
        case OPT_DEV:
            cfg.dev_root = optarg;
            break;
        case OPT_NVME:
            cfg.nvme_path = optarg;
            break;
        case OPT_SMARTCTL:
            cfg.smartctl_path = optarg;
            break;
        case OPT_TIMEOUT: {
            int64_t ns_val;
            if (cs_duration_parse(optarg, &ns_val, &err) != 0)
                return cs__discover_usage("--tool-timeout: %s", err.msg);
            if (ns_val < CS_NSEC_PER_MSEC || ns_val > CS_NSEC_PER_HOUR)
                return cs__discover_usage("--tool-timeout '%s' must be between 1ms and 1h", optarg);
            cfg.tool_timeout_ns = ns_val;
            break;
        }
        case OPT_OVERRIDE:
            if (noverrides == CS__DISCOVER_MAX_OVERRIDES)
                return cs__discover_usage("at most 64 --tier-override flags are accepted%s", "");
            if (cs_hw_tier_override_parse(optarg, &overrides[noverrides], &err) != 0)
                return cs__discover_usage("%s", err.msg);
            noverrides++;
            break;
        case OPT_MEDIA_ERRORS: {
            uint64_t v;
            if (cs_hw_attr_parse_u64(optarg, strlen(optarg), &v) != 0)
                return cs__discover_usage("--media-error-threshold '%s' must be a whole number >= 0", optarg);
            cfg.media_error_threshold = v;
            break;
        }
        case OPT_PERCENT_USED: {
            uint64_t v;
            if (cs_hw_attr_parse_u64(optarg, strlen(optarg), &v) != 0 || v < 1 || v > 255)
                return cs__discover_usage("--percent-used-limit '%s' must be a whole number from 1 "
                                          "to 255",
                                          optarg);
            cfg.percent_used_limit = (int)v;
            break;
        }
        case 'h':
            cs__discover_help(stdout, default_ns);
            return 0;
        case ':':
            return cs__discover_usage("option '%s' needs a value", argv[optind - 1]);
        default:
            return cs__discover_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cs__discover_usage("unexpected argument '%s'", argv[optind]);
    if (json && diskpools)
        return cs__discover_usage("--json and --diskpools cannot be combined%s", "");
    if (diskpools && !node)
        return cs__discover_usage("--diskpools needs --node NAME (the Kubernetes node these disks "
                                  "are attached to)%s",
                                  "");
    if (!diskpools && node)
        return cs__discover_usage("--node is only used with --diskpools%s", "");
    if (diskpools && cs_hw_diskpool_check_names(node, ns, &err) != 0)
        return cs__discover_usage("%s", err.msg);
    cfg.overrides = overrides;
    cfg.noverrides = noverrides;

    cs_hw_inventory_t inv = {0};
    if (cs_hw_discover(&cfg, &inv, &err) != 0) {
        fprintf(stderr, "couchestor discover: %s\n", err.msg);
        cs_hw_inventory_free(&inv);
        return 1;
    }
    for (size_t i = 0; i < inv.nwarnings; i++)
        fprintf(stderr, "warning: %s\n", inv.warnings[i]);

    int status = 0;
    if (json) {
        if (cs_hw_render_json(&inv, stdout, &err) != 0) {
            fprintf(stderr, "couchestor discover: %s\n", err.msg);
            status = 1;
        }
    } else if (diskpools) {
        for (size_t i = 0; i < inv.count; i++) {
            const cs_hw_device_t *d = &inv.devices[i];
            if (d->candidate && !d->poolable)
                fprintf(stderr, "refusing %s: %s%s%s\n", d->name, cs_hw_status_name(d->status),
                        d->in_use.count ? ": " : "", d->in_use.count ? d->in_use.text[0] : "");
        }
        size_t written = 0;
        if (cs_hw_render_diskpools(&inv, node, ns, stdout, &written, &err) != 0) {
            fprintf(stderr, "couchestor discover: %s\n", err.msg);
            status = err.code == CS_EINVAL ? 2 : 1;
        } else if (written == 0) {
            fprintf(stderr, "couchestor discover: no disk on this node can hold a pool (each is in "
                            "use, unverified or excluded); run 'couchestor discover' to see why\n");
            status = 1;
        }
    } else if (cs_hw_render_table(&inv, stdout) != 0) {
        fprintf(stderr, "couchestor discover: cannot write the table\n");
        status = 1;
    }
    if (fflush(stdout) != 0)
        status = 1;
    cs_hw_inventory_free(&inv);
    return status;
}
