/* Tests for the tool runner: output, exit status, missing programs, the
 * deadline (the whole process group dies), and the output cap. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "couchestor/hw.h"
#include "hw/hw_test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(run, captures_stdout_stderr_and_status)
{
    char *argv[] = {"/bin/sh", "-c", "printf 'hello'; echo oops >&2; exit 3", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_run(argv, INT64_C(5000000000), 1024, &res, &err), 0, "%s", err.msg);
    cr_expect_str_eq(res.out, "hello");
    cr_expect_eq(res.out_len, 5);
    cr_expect_str_eq(res.errtext, "oops");
    cr_expect_eq(res.exit_status, 3);
    cr_expect_eq(res.term_signal, 0);
    cs_hw_run_result_free(&res);
    cr_expect_null(res.out);
    cs_hw_run_result_free(NULL);
}

Test(run, missing_or_relative_program)
{
    char *missing[] = {"/nonexistent/nvme", "list", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_run(missing, INT64_C(1000000000), 1024, &res, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "/nonexistent/nvme: not installed or not executable") != NULL, "%s", err.msg);
    cs_hw_run_result_free(&res);
    char *relative[] = {"nvme", NULL};
    cr_expect_eq(cs_hw_run(relative, INT64_C(1000000000), 1024, &res, &err), CS_EINVAL);
    cs_hw_run_result_free(&res);
    char plain[] = "/tmp/cs-hw-run-XXXXXX";
    int fd = mkstemp(plain); /* mode 0600: not executable, even for root */
    cr_assert(fd >= 0);
    close(fd);
    char *notexec[] = {plain, NULL};
    cr_expect_eq(cs_hw_run(notexec, INT64_C(1000000000), 1024, &res, &err), CS_ENOTFOUND);
    cs_hw_run_result_free(&res);
    unlink(plain);
}

Test(run, timeout_kills_the_process_group)
{
    hw_fixture_t fx;
    cs_hw_config_t cfg;
    hw_fixture(&fx, "server", &cfg);
    setenv("FAKE_HW_MODE", "hang", 1);
    /* The fake tool is a bash script whose `sleep` child keeps our pipe open:
     * only killing the whole group ends the wait. */
    char *argv[] = {fx.smartctl, "-j", "-a", "/dev/sdb", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    double t0 = now_s();
    cr_expect_eq(cs_hw_run(argv, INT64_C(300000000), 1024, &res, &err), CS_ETIMEOUT);
    double took = now_s() - t0;
    cr_expect(took >= 0.29 && took < 3.0, "took %.2fs", took);
    cr_expect(strstr(err.msg, "timed out after 300ms and was killed") != NULL, "%s", err.msg);
    cr_expect_eq(res.exit_status, -1);
    cs_hw_run_result_free(&res);
}

Test(run, child_that_closes_stdout_and_lingers_times_out)
{
    hw_fixture_t fx;
    cs_hw_config_t cfg;
    hw_fixture(&fx, "server", &cfg);
    setenv("FAKE_HW_MODE", "close-and-hang", 1);
    char *argv[] = {fx.nvme, "list", "-o", "json", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    double t0 = now_s();
    cr_expect_eq(cs_hw_run(argv, INT64_C(300000000), 1024, &res, &err), CS_ETIMEOUT);
    cr_expect(now_s() - t0 < 3.0);
    cs_hw_run_result_free(&res);
}

Test(run, output_cap)
{
    hw_fixture_t fx;
    cs_hw_config_t cfg;
    hw_fixture(&fx, "server", &cfg);
    setenv("FAKE_HW_MODE", "huge", 1);
    char *argv[] = {fx.nvme, "list", "-o", "json", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_run(argv, INT64_C(5000000000), 65536, &res, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "printed more than 65536 bytes and was killed") != NULL, "%s", err.msg);
    cs_hw_run_result_free(&res);
}

Test(run, output_exactly_at_the_cap_is_kept)
{
    char *argv[] = {"/bin/sh", "-c", "printf 0123456789", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_run(argv, INT64_C(5000000000), 10, &res, &err), 0);
    cr_expect_str_eq(res.out, "0123456789");
    cs_hw_run_result_free(&res);
    char *argv2[] = {"/bin/sh", "-c", "printf 0123456789A", NULL};
    cr_expect_eq(cs_hw_run(argv2, INT64_C(5000000000), 10, &res, &err), CS_ETOOBIG);
    cs_hw_run_result_free(&res);
}

Test(run, killed_by_signal)
{
    char *argv[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_run(argv, INT64_C(5000000000), 1024, &res, &err), CS_EIO);
    cr_expect_eq(res.term_signal, SIGSEGV);
    cr_expect(strstr(err.msg, "killed by signal") != NULL, "%s", err.msg);
    cs_hw_run_result_free(&res);
}

Test(run, no_shell_interpretation_of_arguments)
{
    char *argv[] = {"/bin/echo", "$(id)", ";", "rm", "-rf", "/", NULL};
    cs_hw_run_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_run(argv, INT64_C(5000000000), 1024, &res, &err), 0);
    cr_expect_str_eq(res.out, "$(id) ; rm -rf /\n");
    cs_hw_run_result_free(&res);
}
