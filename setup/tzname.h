/* Is a time-zone name one this machine can read? Setup only checks the
 * name; the streamer reads the zone's rules (common/tz.c). */
#ifndef RADIO_SETUP_TZNAME_H
#define RADIO_SETUP_TZNAME_H

#include <stddef.h>

/* Longest zone name accepted; the IANA database's longest is 32. */
#define TZNAME_MAX_LEN 255

/* 0 when name is "UTC", or an IANA name ("Europe/Berlin": components of
 * [A-Za-z0-9._+-], none empty, "." or "..", none starting with '-') whose
 * file in $TZDIR (default /usr/share/zoneinfo) is a TZif file. Otherwise
 * -1 and why says what is wrong with it. */
int tzname_check(const char *name, char *why, size_t whylen);

#endif
