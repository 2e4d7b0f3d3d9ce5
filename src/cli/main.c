/* SPDX-License-Identifier: MIT */
/*
 * main.c - the descent command: MPI start-up when launched as ranks, and
 * dispatch to the command named by the first argument.
 */
#include "cli.h"
#include "train_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The command-line fuzzer (tests/fuzz/fuzz_cli.c) calls this main as
 * descent_main, many times in one process. */
#ifdef DESCENT_FUZZ_CLI
#include <setjmp.h>
jmp_buf descent_fuzz_exit;
#define main descent_main
#endif

const char *g_cmd = "descent";
int g_rank = 0, g_size = 1;

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", cmd_train, "train a network, write the model (--out), report test accuracy"},
    {"eval", cmd_eval, "loss, accuracy and confusion matrix of a model on a data set"},
    {"predict", cmd_predict, "class or output vector for every input row"},
    {"info", cmd_info, "what a model file holds"},
    {"export", cmd_export, "write a model's weights and biases as NumPy .npy files"},
    {"commbench", cmd_commbench, "time MPI_Allreduce on this machine (input of the cost model)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void help_main(void) {
    printf("descent %s - train fully connected neural networks by gradient descent,\n"
           "on many cores (OpenMP) and many machines (MPI).\n\n"
           "Usage: descent COMMAND [options]      (mpirun -n P descent train ... for P ranks)\n\n"
           "Commands:\n",
           DESCENT_VERSION_STRING);
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-9s %s\n", commands[i].name, commands[i].summary);
    printf("\n'descent COMMAND --help' describes each. 'descent --version' prints the version,\n"
           "what the build targets and the kernel set in use; DESCENT_ISA=avx512|avx2|baseline\n"
           "chooses another set of a portable build.\n"
           "Exit status: 0 success, 2 bad usage or bad data, 1 other failure (also a CPU\n"
           "that lacks what this build was compiled for),\n"
           "3 stopped by a signal (SIGTERM, SIGINT, SIGUSR1) after writing a checkpoint\n"
           "and the model so far.\n"
           "Under mpirun send SIGUSR1: mpirun forwards it, but kills the ranks on SIGTERM or\n"
           "SIGINT (exit 1, no checkpoint).\n");
}

/* Started by an MPI launcher (mpirun/mpiexec, srun --mpi=pmix, Hydra)? A
 * plain `descent ...` is a job of one process: it skips MPI initialisation,
 * which as an Open MPI singleton costs a noticeable start-up, and behaves
 * exactly as a singleton would. DESCENT_MPI=1 forces MPI, =0 skips it. */
static int launched_by_mpi(void) {
    const char *force = getenv("DESCENT_MPI");
    if (force && *force) return strcmp(force, "0") != 0;
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE", "MPI_LOCALNRANKS", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

static int start_mpi(int *argc, char ***argv) {
#ifdef DESCENT_FUZZ_CLI
    (void)argc;
    (void)argv;
    return 0;
#else
    if (!launched_by_mpi()) return 0;
    const int rc = descent_mpi_init(argc, argv);
    if (rc == DESCENT_OK) return 0;
    if (!descent_mpi_available())
        fprintf(stderr, "descent: this descent was built without MPI (DESCENT_WITH_MPI=OFF) "
                "and cannot run as several ranks; rebuild with MPI or run one process\n");
    else
        fprintf(stderr, "descent: MPI initialisation failed\n");
    return 1;
#endif
}

/* Started by a launcher as one of several tasks (srun without a PMI plugin,
 * srun --mpi=none), yet alone in its MPI world: every task would train the
 * whole data set alone and write the same files. Refused. */
static void refuse_lone_task(void) {
    static const char *const counts[] = {"SLURM_STEP_NUM_TASKS", "OMPI_COMM_WORLD_SIZE",
                                         "PMI_SIZE", "MPI_LOCALNRANKS", NULL};
    if (g_size > 1) return;
    for (int i = 0; counts[i]; i++) {
        const char *v = getenv(counts[i]);
        const long n = v ? strtol(v, NULL, 10) : 0;
        if (n <= 1) continue;
        if (!descent_mpi_available())
            usage_error("started as one of %ld tasks (%s=%s), but this descent was built without "
                        "MPI (DESCENT_WITH_MPI=OFF): every task would train alone; rebuild with "
                        "MPI, or run one process", n, counts[i], v);
        usage_error("started as one of %ld tasks (%s=%s), but MPI sees one process: every task "
                    "would train alone and write the same files; launch with 'srun --mpi=pmix' "
                    "(see 'srun --mpi=list'), or mpirun inside the allocation", n, counts[i], v);
    }
}

/* The first process of a job, or one started alone (before MPI knows) */
static int first_process(void) {
    static const char *const ranks[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                        "SLURM_PROCID", NULL};
    for (int i = 0; ranks[i]; i++) {
        const char *v = getenv(ranks[i]);
        if (v && *v) return strcmp(v, "0") == 0;
    }
    return 1;
}

/* A build for another CPU dies at its first instruction this one lacks:
 * say so before the library runs anything else, once per job */
static void refuse_other_cpu(void) {
    char missing[512];
    if (descent_cpu_check(missing, sizeof missing) == DESCENT_OK) return;
    if (first_process())
        fprintf(stderr, "descent: this CPU lacks %s, which this build was compiled to use "
                "(descent --version on the build machine lists them); build descent on this "
                "machine, or a portable build (cmake -DDESCENT_NATIVE=OFF)\n", missing);
    exit(1);
}

/* DESCENT_ISA names the kernel set to use: one this build has and this CPU
 * runs, or the command stops here */
static void use_asked_kernel_set(void) {
    const char *isa = getenv("DESCENT_ISA");
    descent_error err;
    if (!isa || !*isa || descent_kernel_set_use(isa, &err) == DESCENT_OK) return;
    if (first_process()) fprintf(stderr, "descent: DESCENT_ISA=%s: %s\n", isa, err.msg);
    exit(2);
}

/* The version, what the library was compiled for, the kernels in use */
static void print_version(void) {
    char built[512];
    descent_cpu_built(built, sizeof built);
    printf("descent %s\n", DESCENT_VERSION_STRING);
    printf("built for: x86-64%s%s\n", *built ? " with " : " baseline", built);
    printf("kernels: %s\n", descent_kernel_set());
}

int main(int argc, char **argv);
int main(int argc, char **argv) {
    refuse_other_cpu();
    use_asked_kernel_set();
    /* a stop asked for at any moment of a training run ends it cleanly */
    if (argc >= 2 && strcmp(argv[1], "train") == 0) install_stop_signals();
    if (start_mpi(&argc, &argv)) return 1;
    g_cmd = "descent";
    g_rank = descent_mpi_rank();
    g_size = descent_mpi_size();
    if (argc < 2) usage_error("no command given: train, eval, predict, info, export or commbench");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (g_rank == 0) help_main();
        leave(0);
    }
    if (strcmp(cmd, "--version") == 0) {
        if (g_rank == 0) print_version();
        leave(0);
    }
    refuse_lone_task();
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0) leave(commands[i].run(argc, argv));
    usage_error("unknown command '%s'", cmd);
}
