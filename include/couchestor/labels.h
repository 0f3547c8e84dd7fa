/* labels.h: the well-known labels CoucheStor reads and writes, in one place
 * so that discovery (which labels DiskPools), the StoragePolicy examples
 * (which select by them) and the migrator (which steers placement with
 * them) cannot drift apart. */
#ifndef COUCHESTOR_LABELS_H
#define COUCHESTOR_LABELS_H

/* DiskPool labels that name a pool's tier and medium. */
#define CS_LABEL_STORAGE_TIER "storage-tier" /* hot | warm | cold */
#define CS_LABEL_MEDIA_TYPE "media-type"     /* nvme | ssd | hdd */

/* The pool label a tiered StorageClass names in poolHasTopologyKey: every
 * pool carries it, and the migrator removes it from all pools but the
 * target for the moment a new replica is placed. */
#define CS_LABEL_PLACEMENT "couchestor.io/placement"
#define CS_LABEL_PLACEMENT_VALUE "eligible"

/* The pool label Mayastor's CSI driver requires of every volume's pools
 * (value "operator-diskpool": pools made from DiskPools). It cannot be
 * removed, only overwritten: the created-by steering mode does that. */
#define CS_LABEL_CREATED_BY "openebs.io/created-by"

#endif
