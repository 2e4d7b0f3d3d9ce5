/* SPDX-License-Identifier: MIT */
/* A host program that calls setlocale(LC_ALL, ...) with a decimal comma
 * (de_DE) reads a CSV file with the library: the numbers are those of the
 * C locale (0.5 stays 0.5, not a field split at the comma), the messages
 * print numbers with a point, and the host's locale is in force again when
 * the call returns. Where no such locale exists, one is compiled with
 * localedef into a scratch directory (LOCPATH); skipped if that fails. */
#define _GNU_SOURCE
#include "testutil.h"

#include <descent/descent.h>
#include <locale.h>
#include <unistd.h>

static char dir[] = "/tmp/descent-locale-XXXXXX";

static int comma_locale(void) {
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", NULL};
    for (int i = 0; names[i]; i++)
        if (setlocale(LC_ALL, names[i])) return 1;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
    if (system(cmd) != 0) return 0;
    setenv("LOCPATH", dir, 1);
    return setlocale(LC_ALL, "de_DE.UTF-8") != NULL;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(1); }
    fputs(text, f);
    fclose(f);
}

static void decimal_comma(void) {
    if (!comma_locale()) SKIP_SCENARIO("no locale with a decimal comma (de_DE) can be made here");
    CHECK(strcmp(localeconv()->decimal_point, ",") == 0, "the locale's decimal point is '%s'",
          localeconv()->decimal_point);
    char path[300];
    snprintf(path, sizeof path, "%s/rows.csv", dir);
    write_file(path, "1,0.5,2.25\n0,1.75,-3.5\n");
    descent_data *d = NULL;
    descent_error err = {0};
    const int rc = descent_data_load_csv(&d, path, NULL, &err);
    CHECK(rc == DESCENT_OK, "load: %s", err.msg);
    if (rc == DESCENT_OK) {
        CHECK(descent_data_count(d) == 2 && descent_data_features(d) == 2,
              "%zu rows of %d features, expected 2 of 2", descent_data_count(d),
              descent_data_features(d));
        float x[2][2], y[2];
        descent_data_sample(d, 0, x[0], NULL);
        descent_data_sample(d, 1, x[1], y);
        CHECK(x[0][0] == 0.5f && x[0][1] == 2.25f && x[1][0] == 1.75f && x[1][1] == -3.5f,
              "features %g %g %g %g", x[0][0], x[0][1], x[1][0], x[1][1]);
        descent_data_free(d);
    }
    write_file(path, "1,0.5,2.5e39\n");
    CHECK(descent_data_load_csv(&d, path, NULL, &err) == DESCENT_E_FORMAT, "2.5e39 accepted");
    CHECK(strstr(err.msg, "2.5e39") != NULL, "the message does not quote the value: %s", err.msg);
    CHECK(strcmp(localeconv()->decimal_point, ",") == 0,
          "the host's locale was not restored: decimal point '%s'", localeconv()->decimal_point);
    unlink(path);
    setlocale(LC_ALL, "C");
}

int main(int argc, char **argv) {
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    static const scenario list[] = {SCENARIO(decimal_comma)};
    const int rc = run_scenarios(argc, argv, list, 1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return rc;
}
