#include "tzname.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZNAME_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZIF_MAGIC "TZif"

static int syntax_ok(const char *name, char *why, size_t whylen)
{
    size_t len = strlen(name);
    if (len == 0)
        return err_set(why, whylen, "empty");
    if (len > TZNAME_MAX_LEN)
        return err_set(why, whylen, "longer than %d characters", TZNAME_MAX_LEN);
    const char *comp = name;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t cl = (size_t)(p - comp);
            if (cl == 0 || (cl == 1 && comp[0] == '.') || (cl == 2 && comp[0] == '.' && comp[1] == '.'))
                return err_set(why, whylen, "not an IANA zone name (an empty, \".\" or \"..\" part)");
            if (comp[0] == '-')
                return err_set(why, whylen, "not an IANA zone name (a part starts with '-')");
            if (*p == '\0')
                return 0;
            comp = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '+' || c == '-'))
            return err_set(why, whylen, "not an IANA zone name (character '%c')", c);
    }
}

int tzname_check(const char *name, char *why, size_t whylen)
{
    if (strcmp(name, "UTC") == 0)
        return 0;
    if (syntax_ok(name, why, whylen) != 0)
        return -1;
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = TZNAME_DEFAULT_DIR;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return err_set(why, whylen, "path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return err_set(why, whylen, "no such zone in %s (%s)", dir, strerror(errno));
    struct stat st;
    char magic[sizeof TZIF_MAGIC - 1];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
             memcmp(magic, TZIF_MAGIC, sizeof magic) == 0;
    close(fd);
    if (!ok)
        return err_set(why, whylen, "%s is not a time-zone file (TZif)", path);
    return 0;
}
