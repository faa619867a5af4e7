/*-------------------------------------------------------------------------
 *
 * main.c
 *	  Runs every registered unit test; one line per test, then
 *	  "N passed, N failed".  An optional argument runs only tests whose
 *	  name contains it.  With NEXUS_UNIT_CHECKS set, "# NAME: N checks"
 *	  after each test and "# N checks" at the end tell how much was
 *	  asserted, which the one-line results alone do not show.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "unit.h"

#define MAX_TESTS 1024

static struct
{
	const char *name;
	nx_test_fn	fn;
}			tests[MAX_TESTS];
static int	ntests = 0;
static int	current_failures = 0;
int			nx_test_checks = 0;

void
nx_test_register(const char *name, nx_test_fn fn)
{
	if (ntests < MAX_TESTS)
	{
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void
nx_test_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	current_failures++;
	if (current_failures > 20)
		return;					/* enough to go on */
	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

const char *
nx_fixtures_dir(void)
{
	static char dir[4096];
	const char *env = getenv("NEXUS_FIXTURES");

	if (env && *env)
		return env;
	if (!dir[0])
		snprintf(dir, sizeof(dir), "%s", NEXUS_DEFAULT_FIXTURES);
	return dir;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const typeof(tests[0]) *) a)->name, ((const typeof(tests[0]) *) b)->name);
}

int
main(int argc, char **argv)
{
	int			passed = 0;
	int			failed = 0;
	long		all_checks = 0;
	bool		show_checks = getenv("NEXUS_UNIT_CHECKS") != NULL;
	struct stat st;

	if (stat(nx_fixtures_dir(), &st) != 0)
	{
		fprintf(stderr, "unit: fixtures not found at %s (set NEXUS_FIXTURES)\n", nx_fixtures_dir());
		return 2;
	}
	qsort(tests, ntests, sizeof(tests[0]), by_name);
	for (int i = 0; i < ntests; i++)
	{
		if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL)
			continue;
		current_failures = 0;
		nx_test_checks = 0;
		tests[i].fn();
		all_checks += nx_test_checks;
		if (current_failures == 0)
		{
			passed++;
			printf("ok %s\n", tests[i].name);
		}
		else
		{
			failed++;
			printf("FAILED %s (%d checks)\n", tests[i].name, current_failures);
		}
		if (show_checks)
			printf("# %s: %d checks\n", tests[i].name, nx_test_checks);
		fflush(stdout);
	}
	if (show_checks)
		printf("# %ld checks\n", all_checks);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
