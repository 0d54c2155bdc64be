/* /proc/self/mountinfo (stress-ng's handle stressor and util-linux read it): one line per
 * mount, "ID PARENT MAJOR:MINOR ROOT POINT OPTS [OPTIONAL...] - TYPE SOURCE SUPEROPTS",
 * unique ids, /proc's parent is the mount of /, and each device number is what stat shows
 * for the mount point. */
#define _GNU_SOURCE
#include "lintel_test.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    FILE *f = fopen("/proc/self/mountinfo", "r");
    CHECK(f != NULL);
    if (!f) DONE();
    char line[1024];
    int ids[256], n = 0, root_id = -1, proc_parent = -1, proc_seen = 0, root_seen = 0;
    while (fgets(line, sizeof line, f) && n < 256) {
        int id, parent;
        unsigned maj, min;
        char root[256], point[256], opts[256];
        CHECK(sscanf(line, "%d %d %u:%u %255s %255s %255s", &id, &parent, &maj, &min, root, point,
                     opts) == 7);
        char *sep = strstr(line, " - ");
        CHECK(sep != NULL);
        char type[64] = "", source[256] = "", super[256] = "";
        if (sep) CHECK(sscanf(sep + 3, "%63s %255s %255s", type, source, super) == 3);
        for (int i = 0; i < n; i++) CHECK(ids[i] != id);
        ids[n++] = id;
        struct stat st;
        if (strcmp(point, "/") == 0) {
            root_id = id;
            root_seen = 1;
            CHECK_OK(stat("/", &st));
            CHECK(major(st.st_dev) == maj && minor(st.st_dev) == min);
        }
        if (strcmp(point, "/proc") == 0) {
            proc_seen = 1;
            proc_parent = parent;
            CHECK(strcmp(type, "proc") == 0);
            CHECK(strcmp(root, "/") == 0);
            CHECK_OK(stat("/proc", &st));
            CHECK(major(st.st_dev) == maj && minor(st.st_dev) == min);
        }
    }
    fclose(f);
    CHECK(n >= 2);
    CHECK(root_seen && proc_seen);
    CHECK(proc_parent == root_id);
    DONE();
}
