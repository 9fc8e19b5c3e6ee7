#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import.
static inline sqlite3_destructor_type plinth_sqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type plinth_sqlite_static(void) { return SQLITE_STATIC; }

// Extended result codes are expression macros (`SQLITE_CONSTRAINT | (8<<8)`) Swift cannot import.
static const int plinth_sqlite_constraint_unique = SQLITE_CONSTRAINT_UNIQUE;
static const int plinth_sqlite_constraint_primarykey = SQLITE_CONSTRAINT_PRIMARYKEY;
static const int plinth_sqlite_constraint_foreignkey = SQLITE_CONSTRAINT_FOREIGNKEY;
static const int plinth_sqlite_constraint_notnull = SQLITE_CONSTRAINT_NOTNULL;
static const int plinth_sqlite_constraint_check = SQLITE_CONSTRAINT_CHECK;
