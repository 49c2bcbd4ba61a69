/* schema.h - private to lib/: the SQL that builds each schema version. */
#ifndef MEMTIDE_SCHEMA_H
#define MEMTIDE_SCHEMA_H

/* The SQL that takes a database from user_version from_version to
 * from_version + 1, or NULL when from_version is the newest. */
const char *schema_migration(int from_version);

#endif
