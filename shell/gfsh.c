/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh: the guestkit shell, a guestfish without an appliance.
 *
 *   gfsh [-a IMAGE]... [--format=F] [-i | -m DEV[:MP]...] [--ro|--rw] [-x]
 *        [-f SCRIPT] [CMD [ARGS] : CMD ...]
 *
 * Commands come from the command line (separated by a standalone ':'), a
 * script (-f, or stdin when it is not a terminal: stop at the first
 * error, exit 1) or a terminal (GNU readline, history, completion; errors
 * do not stop the session).
 */
#include <errno.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "gfsh.h"

volatile sig_atomic_t gfsh_interrupted;

/* Longest input line we accept: guestfish has no real use for more, and a
 * runaway line (a binary file fed as a script) should fail cleanly. */
#define GFSH_LINE_MAX (64 * 1024)
#define GFSH_HISTORY_SIZE 1000

enum { OPT_MAN_COMMANDS = 0x2001, OPT_PIPE_ERROR, OPT_NO_DEST_PATHS, OPT_NO_SYNC };

static const struct option gfsh_longopts[] = {
    {"file", required_argument, 0, 'f'},
    {"cmd-help", no_argument, 0, 'h'},
    {"man-commands", no_argument, 0, OPT_MAN_COMMANDS},
    {"pipe-error", no_argument, 0, OPT_PIPE_ERROR},
    {"no-dest-paths", no_argument, 0, OPT_NO_DEST_PATHS},
    {"no-sync", no_argument, 0, 'n'},
    {0, 0, 0, 0},
};

struct opts {
    const char *script;
    int echo, cmd_help, man_commands, pipe_error, no_dest_paths;
};

static int handle_opt(int opt, const char *arg, void *ud)
{
    struct opts *o = ud;
    switch (opt) {
    case 'f':
        if (o->script) {
            fprintf(stderr, "%s: only one -f option can be given\n", gk_progname);
            return -1;
        }
        o->script = arg;
        return 0;
    case 'x': o->echo = 1; return 0;
    case 'h': o->cmd_help = 1; return 0;
    case 'n': return 0;
    case OPT_MAN_COMMANDS: o->man_commands = 1; return 0;
    case OPT_PIPE_ERROR: o->pipe_error = 1; return 0;
    case OPT_NO_DEST_PATHS: o->no_dest_paths = 1; return 0;
    }
    return -1;
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "gfsh: the guestkit shell, for looking inside virtual machine disk images\n"
            "Usage:\n"
            "  gfsh [--options] [cmd [: cmd ...]]\n"
            "Options:\n"
            "  -a|--add image       Add an image (raw or qcow2)\n"
            "  --format[=raw|qcow2] Force the format of the following -a images\n"
            "  -i|--inspector       Find the operating system and mount it\n"
            "  -m|--mount dev[:mnt] Mount dev on mnt (default /)\n"
            "  --ro|-r              Read-only (the default)\n"
            "  --rw|-w              Allow changes to the disks\n"
            "  -f|--file file       Read commands from file\n"
            "  -x                   Echo each command before running it\n"
            "  -h|--cmd-help [cmd]  List commands, or describe one\n"
            "  --pipe-error         Fail a command whose output pipe fails\n"
            "  --no-dest-paths      No guest path completion\n"
            "  --man-commands       Print the COMMANDS section of gfsh(1) (roff)\n"
            "  --key SELECTOR       LUKS key for -i: ID:key:KEY_STRING or ID:file:FILENAME\n"
            "  --keys-from-stdin    Read passphrases from stdin; --echo-keys: echo them\n"
            "  -v|--verbose         Debug messages\n"
            "  -V|--version         Print the version\n"
            "  --help               This help\n"
            "Commands on the command line are separated by ':'; without them,\n"
            "gfsh reads commands from the terminal, or runs a script from stdin.\n"
            "Type 'help' at the prompt for the list of commands.\n");
}

static void on_sigint(int sig)
{
    (void)sig;
    gfsh_interrupted = 1;
}

/* ------------------------------------------------------------------ */

static int run_host(const char *cmd)
{
    fflush(stdout);
    int r = system(cmd);
    if (r == -1) {
        gfsh_err(NULL, "!%s: %s", cmd, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_script(gfsh *sh, FILE *fp, const char *name);

/* <! cmd: run cmd on the host and execute its output as gfsh commands. */
static int run_host_cmds(gfsh *sh, const char *cmd)
{
    if (sh->depth >= 8) {
        gfsh_err(NULL, "<!: nested too deeply");
        return -1;
    }
    fflush(stdout);
    FILE *pp = popen(cmd, "r");
    if (!pp) {
        gfsh_err(NULL, "<!%s: %s", cmd, strerror(errno));
        return -1;
    }
    sh->depth++;
    const char *saved_src = sh->source;
    int saved_line = sh->lineno;
    int r = run_script(sh, pp, "<!");
    sh->source = saved_src;
    sh->lineno = saved_line;
    sh->depth--;
    int st = pclose(pp);
    if (r == 0 && st != 0 && st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0) {
        gfsh_err(NULL, "<!%s: command failed with exit status %d", cmd, WEXITSTATUS(st));
        r = -1;
    }
    return r;
}

static void echo_words(int n, char **w)
{
    fflush(stdout);
    fputc('+', stderr);
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s", w[i]);
    fputc('\n', stderr);
}

int gfsh_run_line(gfsh *sh, const char *line)
{
    gfsh_line l;
    if (gfsh_parse_line(line, &l) < 0) {
        fflush(stdout);
        if (sh->source)
            fprintf(stderr, "%s: %s:%d: %s\n", gk_progname, sh->source, sh->lineno, gk_errmsg());
        else
            fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
        return -1;
    }
    int r = 0;
    switch (l.kind) {
    case GL_EMPTY:
        break;
    case GL_HOST:
        r = run_host(l.host);
        break;
    case GL_HOSTCMDS:
        r = run_host_cmds(sh, l.host);
        break;
    case GL_CMD: {
        if (sh->echo)
            echo_words(l.nwords, l.words);
        FILE *pp = NULL;
        int saved = -1;
        if (l.pipe) {
            fflush(stdout);
            pp = popen(l.pipe, "w");
            if (!pp) {
                gfsh_err(NULL, "| %s: %s", l.pipe, strerror(errno));
                r = -1;
                break;
            }
            saved = dup(1);
            dup2(fileno(pp), 1);
            sh->in_pipe = 1;
            signal(SIGPIPE, SIG_IGN); /* a host command that quits early is fine */
        }
        gfsh_interrupted = 0;
        r = gfsh_run_words(sh, l.nwords, l.words);
        if (pp) {
            if (fflush(stdout) != 0 && sh->pipe_error && r == 0) {
                gfsh_err(NULL, "| %s: %s", l.pipe, strerror(errno));
                r = -1;
            }
            clearerr(stdout);
            dup2(saved, 1);
            close(saved);
            sh->in_pipe = 0;
            signal(SIGPIPE, SIG_DFL);
            int st = pclose(pp);
            if (sh->pipe_error && r == 0 && st != 0) {
                gfsh_err(NULL, "| %s: exit status %d", l.pipe, WIFEXITED(st) ? WEXITSTATUS(st) : st);
                r = -1;
            }
        }
        if (r < 0 && l.may_fail)
            r = 0;
        break;
    }
    }
    gfsh_line_free(&l);
    return r;
}

/* Read a line of any length up to GFSH_LINE_MAX; *toolong is 1 if longer
 * (the rest of the line is consumed), -1 if it holds a NUL byte.  NULL at
 * EOF. */
static char *read_line(FILE *fp, int *toolong)
{
    size_t cap = 256, n = 0;
    char *s = gk_malloc(cap);
    int c;
    *toolong = 0;
    while ((c = getc(fp)) != EOF) {
        if (c == '\n')
            break;
        if (c == 0 && !*toolong)
            *toolong = -1;
        if (n >= GFSH_LINE_MAX) {
            *toolong = 1;
            continue;
        }
        if (n + 2 > cap)
            s = gk_realloc(s, cap *= 2);
        s[n++] = (char)c;
    }
    if (c == EOF && n == 0 && !*toolong) {
        free(s);
        return NULL;
    }
    s[n] = 0;
    return s;
}

/* Non-interactive: stop at the first error that is not allowed to fail. */
static int run_script(gfsh *sh, FILE *fp, const char *name)
{
    char *line;
    int toolong;
    sh->source = name;
    sh->lineno = 0;
    while (!sh->quit && (line = read_line(fp, &toolong))) {
        sh->lineno++;
        int r;
        if (toolong > 0) {
            gfsh_err(NULL, "%s:%d: line too long (more than %d bytes)", name, sh->lineno,
                     GFSH_LINE_MAX);
            r = -1;
        } else if (toolong < 0) {
            gfsh_err(NULL, "%s:%d: line contains a NUL byte", name, sh->lineno);
            r = -1;
        } else {
            r = gfsh_run_line(sh, line);
        }
        free(line);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* Ctrl-C at the prompt: readline's read was interrupted; throw the line
 * away and show a fresh prompt, as a shell does. */
static int on_rl_signal(void)
{
    if (gfsh_interrupted) {
        gfsh_interrupted = 0;
        rl_replace_line("", 0);
        fputs("^C", rl_outstream ? rl_outstream : stdout);
        rl_crlf();
        rl_on_new_line();
        rl_redisplay();
    }
    return 0;
}

static char *history_file(void)
{
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    return gk_asprintf("%s/.gfsh_history", home);
}

void gfsh_print_banner(gfsh *sh)
{
    if (sh->cli.inspector && sh->g->inspected) {
        for (int i = 0; i < sh->g->noses; i++)
            if (sh->g->oses[i].product_name)
                printf("Operating system: %s\n", sh->g->oses[i].product_name);
        for (int i = 0; i < gk_vfs_nmounts(sh->g->vfs); i++) {
            gk_mount *m = gk_vfs_mount_at(sh->g->vfs, i);
            printf("%s mounted on %s\n", m->device, m->mountpoint);
        }
        putchar('\n');
    }
}

static void interactive(gfsh *sh)
{
    char *hist = history_file();
    rl_readline_name = "gfsh";
    rl_catch_signals = 0; /* our SIGINT handler stays in place */
    rl_signal_event_hook = on_rl_signal;
    using_history();
    stifle_history(GFSH_HISTORY_SIZE);
    if (hist)
        read_history(hist);
    gfsh_completion_init(sh);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: blocked writes return */

    printf("\nWelcome to gfsh, the guestkit shell for looking inside disk images.\n\n"
           "Type: 'help' for help on commands\n"
           "      'quit' to quit the shell\n\n");
    /* like guestfish -i: what was found and mounted */
    if (sh->worker > 0)
        gfsh_split_banner(sh);
    else
        gfsh_print_banner(sh);
    sh->source = NULL;
    while (!sh->quit) {
        gfsh_interrupted = 0;
        char *line = readline("><gfsh> ");
        if (!line) {
            putchar('\n');
            break;
        }
        if (strlen(line) > GFSH_LINE_MAX) {
            gfsh_err(NULL, "line too long (more than %d bytes)", GFSH_LINE_MAX);
            free(line);
            continue;
        }
        const char *p = line + strspn(line, " \t");
        if (*p) {
            HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
            if (!last || strcmp(last->line, line) != 0)
                add_history(line);
        }
        gfsh_run_line(sh, line);
        fflush(stdout);
        free(line);
    }
    if (hist) {
        if (write_history(hist) == 0)
            history_truncate_file(hist, GFSH_HISTORY_SIZE);
        free(hist);
    }
}

/* gfsh [opts] cmd args : cmd args ... */
static int run_cmdline(gfsh *sh, int argc, char **argv)
{
    int start = 0;
    for (int i = 0; i <= argc; i++) {
        if (i == argc || strcmp(argv[i], ":") == 0) {
            if (i > start) {
                if (sh->echo)
                    echo_words(i - start, argv + start);
                gfsh_interrupted = 0;
                if (gfsh_run_words(sh, i - start, argv + start) < 0)
                    return -1;
                if (sh->quit)
                    return 0;
            }
            start = i + 1;
        }
    }
    return 0;
}

/* main's end, on every path that returns: what it owns is freed */
static int gfsh_done(gfsh *sh, int rc)
{
    if (sh->g)
        gk_guest_free(sh->g);
    sh->g = NULL;
    gk_cli_clear(&sh->cli);
    return rc;
}

int main(int argc, char **argv)
{
    gfsh sh;
    struct opts o;
    memset(&sh, 0, sizeof sh);
    memset(&o, 0, sizeof o);
    gk_cli_parse(&sh.cli, "gfsh", argc, argv, "f:xhn", gfsh_longopts, handle_opt, &o, usage);
    gk_progname = "gfsh";

    if (o.man_commands) {
        gfsh_man_commands(stdout);
        return gfsh_done(&sh, 0);
    }
    if (o.cmd_help) {
        if (sh.cli.nargs == 0) {
            gfsh_list_commands(stdout);
            return gfsh_done(&sh, 0);
        }
        return gfsh_done(&sh, gfsh_help_command(stdout, sh.cli.args[0]) < 0 ? 1 : 0);
    }
    sh.echo = o.echo;
    sh.pipe_error = o.pipe_error;
    sh.no_dest_paths = o.no_dest_paths;
    /* SIGPIPE stays default: gfsh ... | head ends quietly, like cat */

    if ((sh.cli.inspector || sh.cli.nmounts) && sh.cli.ndrives == 0)
        gk_die("-i and -m need at least one -a IMAGE");
    if (sh.cli.inspector && sh.cli.nmounts)
        gk_die("-i and -m cannot be used together");

    sh.g = gk_guest_new();
    sh.g->readwrite = sh.cli.rw;
    for (int i = 0; i < sh.cli.ndrives; i++) {
        gk_open_opts oo = {
            .format = sh.cli.drives[i].format,
            .readwrite = sh.cli.rw,
            .untrusted = sh.cli.untrusted,
            .force_share = sh.cli.force_share,
        };
        if (gk_cli_add_drive(&sh.cli, sh.g, sh.cli.drives[i].path, &oo) < 0)
            gk_die_err();
    }
    if ((sh.cli.inspector || sh.cli.nmounts) && !sh.cli.sb.off) {
        /* the guest is parsed in the sandboxed worker (split.c) */
        gfsh_split_start(&sh);
        if (gfsh_split_launch(&sh) < 0) {
            gfsh_split_end(&sh);
            return gfsh_done(&sh, 1);
        }
    } else if (sh.cli.inspector || sh.cli.nmounts) {
        if (gk_guest_launch(sh.g) < 0)
            gk_die_err();
        if (sh.cli.inspector) {
            gk_cli_decrypt(&sh.cli, sh.g); /* guestfish -i opens LUKS volumes first */
            if (gk_guest_mount_inspected(sh.g) < 0)
                gk_die_err();
        } else if (gk_cli_mount_list(&sh.cli, sh.g) < 0) {
            gk_die_err();
        }
    }

    int rc = 0;
    if (sh.cli.nargs > 0) {
        rc = run_cmdline(&sh, sh.cli.nargs, sh.cli.args) < 0;
    } else if (o.script) {
        FILE *fp = strcmp(o.script, "-") == 0 ? stdin : fopen(o.script, "r");
        if (!fp)
            gk_die("%s: %s", o.script, strerror(errno));
        rc = run_script(&sh, fp, o.script) < 0;
        if (fp != stdin)
            fclose(fp);
    } else if (isatty(0)) {
        sh.interactive = 1;
        interactive(&sh);
    } else {
        rc = run_script(&sh, stdin, "stdin") < 0;
    }
    if (fflush(stdout) != 0 && errno != EPIPE) {
        fprintf(stderr, "gfsh: write error: %s\n", strerror(errno));
        rc = 1;
    }
    /* what the commands changed becomes durable (and reported) here, in
     * the worker if there is one */
    if (sh.worker > 0 && gfsh_split_end(&sh) < 0)
        rc = 1;
    if (sh.cli.rw && sh.g->launched && gk_vfs_sync(sh.g->vfs) < 0) {
        fprintf(stderr, "gfsh: sync: %s\n", gk_errmsg());
        rc = 1;
    }
    return gfsh_done(&sh, rc);
}
