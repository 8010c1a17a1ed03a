/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ginspect: describe the operating systems of a disk image, as
 * virt-inspector does: XML in virt-inspector's layout (element order,
 * two-space indentation, mountpoints shortest first, filesystems sorted
 * by name), or the same content as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>
#include <json-c/json.h>
#include <limits.h>
#include <unistd.h>

#include "common.h"
#include "each.h"

enum { OPT_NO_APPS = 0x2000, OPT_NO_ICON, OPT_XML, OPT_JSON, OPT_XPATH };

struct opts {
    int apps, json, xml;
    const char *xpath;
    gk_each each;
    const char *sqlite;     /* --each --sqlite FILE */
    gk_each_db *db;
};

static void usage(FILE *f)
{
    fprintf(f,
        "ginspect: display information about a virtual machine's operating system\n"
        "Usage:\n"
        "  ginspect [--options] -a disk.img [-a disk.img ...]\n"
        "Options:\n"
        "  -a|--add image       Add image\n"
        "  --format[=raw|..]    Force disk format for the following -a options\n"
        "  --no-applications    Do not output the installed applications\n"
        "  --no-icon            Do not output the guest icon (never output)\n"
        "  --xml                XML output (the default)\n"
        "  --json               JSON output with the same content\n"
        "  --xpath query        Run an XPath query on XML read from stdin\n"
        "  --each               Inspect each image as its own guest: JSON lines\n"
        "  --from FILE          With --each: images (or URIs) listed in FILE, one a\n"
        "                       line (- for stdin)\n"
        "  --jobs N             With --each: N images at a time (default: the CPUs)\n"
        "  --timeout SECS       With --each: CPU seconds per image (default 300)\n"
        "  --memory MIB         With --each: memory per image (default 2048)\n"
        "  --sqlite FILE        With --each: also write the reports to a new SQLite\n"
        "                       database FILE (tables: see the man page)\n"
        "  --untrusted          Refuse backing files outside the image directory\n"
        "  --key SELECTOR       LUKS key: ID:key:KEY_STRING or ID:file:FILENAME\n"
        "  --keys-from-stdin    Read passphrases from stdin\n"
        "  --echo-keys          Don't turn off echo for passphrases\n"
        "  -v|--verbose         Verbose messages\n"
        "  -V|--version         Display version and exit\n"
        "  --help               Display brief help\n"
        "For more information, see the manpage ginspect(1).\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)arg;
    struct opts *o = ud;
    switch (opt) {
    case OPT_NO_APPS: o->apps = 0; break;
    case OPT_NO_ICON: break;
    case OPT_XML: o->json = 0; o->xml = 1; break;
    case OPT_JSON: o->json = 1; o->xml = 0; break;
    case OPT_XPATH: o->xpath = arg; break;
    case GK_EACH_OPT_SQLITE: o->sqlite = arg; break;
    default: return gk_each_opt(&o->each, opt, arg);
    }
    return 0;
}

static int cmp_mp(const void *a, const void *b)
{
    const gk_mp *x = a, *y = b;
    size_t lx = strlen(x->mountpoint), ly = strlen(y->mountpoint);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->mountpoint, y->mountpoint);
}

/* virt-inspector sorts drive letters ignoring case */
static int cmp_drive(const void *a, const void *b)
{
    return strcasecmp(((const gk_drive *)a)->letter, ((const gk_drive *)b)->letter);
}

static int cmp_fs(const void *a, const void *b)
{
    return strcmp(((const gk_fsinfo *)a)->dev, ((const gk_fsinfo *)b)->dev);
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* Guest strings as valid UTF-8 that XML allows (gk_utf8_clean). */
static char *clean(const char *in)
{
    return gk_utf8_clean(in);
}

/* ------------------------------------------------------------------ */
/* XML                                                                 */

static void xml_fail(const char *what)
{
    gk_die("error writing XML (%s)", what);
}

#define X(call) do { if ((call) < 0) xml_fail(#call); } while (0)

static void el(xmlTextWriterPtr w, const char *name, const char *val)
{
    if (nonempty(val)) {
        char *c = clean(val);
        X(xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST c));
        free(c);
    }
}

static void attr_dev(xmlTextWriterPtr w, const char *dev)
{
    char *c = clean(dev);
    X(xmlTextWriterWriteAttribute(w, BAD_CAST "dev", BAD_CAST c));
    free(c);
}

static void el_int(xmlTextWriterPtr w, const char *name, int v)
{
    X(xmlTextWriterWriteFormatElement(w, BAD_CAST name, "%d", v));
}

static void xml_os(xmlTextWriterPtr w, gk_os *os, int apps)
{
    X(xmlTextWriterStartElement(w, BAD_CAST "operatingsystem"));
    el(w, "root", os->root);
    el(w, "name", os->type);
    el(w, "arch", os->arch);
    el(w, "distro", os->distro);
    el(w, "product_name", os->product_name);
    el(w, "product_variant", os->product_variant);
    el_int(w, "major_version", os->major);
    el_int(w, "minor_version", os->minor);
    el(w, "package_format", os->package_format);
    el(w, "package_management", os->package_management);
    el(w, "windows_systemroot", os->windows_systemroot);
    el(w, "windows_current_control_set", os->windows_current_control_set);
    el(w, "hostname", os->hostname);
    el(w, "build_id", os->build_id);
    el(w, "osinfo", os->osinfo);

    X(xmlTextWriterStartElement(w, BAD_CAST "mountpoints"));
    for (int i = 0; i < os->nmps; i++) {
        X(xmlTextWriterStartElement(w, BAD_CAST "mountpoint"));
        attr_dev(w, os->mps[i].dev);
        char *c = clean(os->mps[i].mountpoint);
        X(xmlTextWriterWriteString(w, BAD_CAST c));
        free(c);
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterEndElement(w));

    X(xmlTextWriterStartElement(w, BAD_CAST "filesystems"));
    for (int i = 0; i < os->nfss; i++) {
        gk_fsinfo *f = &os->fss[i];
        X(xmlTextWriterStartElement(w, BAD_CAST "filesystem"));
        attr_dev(w, f->dev);
        el(w, "type", f->type);
        el(w, "label", f->label);
        el(w, "uuid", f->uuid);
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterEndElement(w));

    if (os->ndrives > 0) {
        X(xmlTextWriterStartElement(w, BAD_CAST "drive_mappings"));
        for (int i = 0; i < os->ndrives; i++) {
            X(xmlTextWriterStartElement(w, BAD_CAST "drive_mapping"));
            char *c = clean(os->drives[i].letter);
            X(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST c));
            free(c);
            c = clean(os->drives[i].dev);
            X(xmlTextWriterWriteString(w, BAD_CAST c));
            free(c);
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
    }

    if (apps) {
        X(xmlTextWriterStartElement(w, BAD_CAST "applications"));
        for (int i = 0; i < os->napps; i++) {
            gk_app *a = &os->apps[i];
            X(xmlTextWriterStartElement(w, BAD_CAST "application"));
            el(w, "name", a->name);
            el(w, "display_name", a->display_name);
            if (a->epoch != 0)
                el_int(w, "epoch", a->epoch);
            el(w, "version", a->version);
            el(w, "release", a->release);
            el(w, "arch", a->arch);
            el(w, "install_path", a->install_path);
            el(w, "publisher", a->publisher);
            el(w, "url", a->url);
            el(w, "source_package", a->source_package);
            el(w, "summary", a->summary);
            el(w, "description", a->description);
            X(xmlTextWriterEndElement(w));
        }
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterEndElement(w));
}

static void output_xml(gk_guest *g, int apps)
{
    xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(stdout, NULL);
    if (!ob)
        gk_die("cannot write to standard output");
    xmlTextWriterPtr w = xmlNewTextWriter(ob);
    if (!w)
        gk_die("cannot create the XML writer");
    X(xmlTextWriterSetIndent(w, 1));
    X(xmlTextWriterSetIndentString(w, BAD_CAST "  "));
    X(xmlTextWriterStartDocument(w, NULL, NULL, NULL));
    X(xmlTextWriterStartElement(w, BAD_CAST "operatingsystems"));
    for (int i = 0; i < g->noses; i++)
        xml_os(w, &g->oses[i], apps);
    X(xmlTextWriterEndElement(w));
    X(xmlTextWriterEndDocument(w));
    xmlFreeTextWriter(w);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static void js_str(const char *raw)
{
    char *s = clean(raw);
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        default:
            if (*p < 0x20)
                printf("\\u%04x", *p);
            else
                putchar(*p);
        }
    }
    putchar('"');
    free(s);
}

/* "key": "value" members, comma handling through *first */
static void js_kv(const char *ind, int *first, const char *k, const char *v)
{
    if (!nonempty(v))
        return;
    printf("%s\n%s", *first ? "" : ",", ind);
    *first = 0;
    js_str(k);
    fputs(": ", stdout);
    js_str(v);
}

static void js_ki(const char *ind, int *first, const char *k, int v)
{
    printf("%s\n%s", *first ? "" : ",", ind);
    *first = 0;
    js_str(k);
    printf(": %d", v);
}

static void output_json(gk_guest *g, int apps)
{
    printf("{\n  \"operatingsystems\": [");
    for (int i = 0; i < g->noses; i++) {
        gk_os *os = &g->oses[i];
        const char *in = "      ";
        int first = 1;
        printf("%s\n    {", i ? "," : "");
        js_kv(in, &first, "root", os->root);
        js_kv(in, &first, "name", os->type);
        js_kv(in, &first, "arch", os->arch);
        js_kv(in, &first, "distro", os->distro);
        js_kv(in, &first, "product_name", os->product_name);
        js_kv(in, &first, "product_variant", os->product_variant);
        js_ki(in, &first, "major_version", os->major);
        js_ki(in, &first, "minor_version", os->minor);
        js_kv(in, &first, "package_format", os->package_format);
        js_kv(in, &first, "package_management", os->package_management);
        js_kv(in, &first, "windows_systemroot", os->windows_systemroot);
        js_kv(in, &first, "windows_current_control_set", os->windows_current_control_set);
        js_kv(in, &first, "hostname", os->hostname);
        js_kv(in, &first, "build_id", os->build_id);
        js_kv(in, &first, "osinfo", os->osinfo);
        printf(",\n%s\"mountpoints\": [", in);
        for (int j = 0; j < os->nmps; j++) {
            int f2 = 1;
            printf("%s\n        {", j ? "," : "");
            js_kv("          ", &f2, "dev", os->mps[j].dev);
            js_kv("          ", &f2, "mountpoint", os->mps[j].mountpoint);
            printf("\n        }");
        }
        printf("%s],\n%s\"filesystems\": [", os->nmps ? "\n      " : "", in);
        for (int j = 0; j < os->nfss; j++) {
            int f2 = 1;
            printf("%s\n        {", j ? "," : "");
            js_kv("          ", &f2, "dev", os->fss[j].dev);
            js_kv("          ", &f2, "type", os->fss[j].type);
            js_kv("          ", &f2, "label", os->fss[j].label);
            js_kv("          ", &f2, "uuid", os->fss[j].uuid);
            printf("\n        }");
        }
        printf("%s]", os->nfss ? "\n      " : "");
        if (os->ndrives > 0) {
            printf(",\n%s\"drive_mappings\": [", in);
            for (int j = 0; j < os->ndrives; j++) {
                int f2 = 1;
                printf("%s\n        {", j ? "," : "");
                js_kv("          ", &f2, "name", os->drives[j].letter);
                js_kv("          ", &f2, "dev", os->drives[j].dev);
                printf("\n        }");
            }
            printf("\n      ]");
        }
        if (apps) {
            printf(",\n%s\"applications\": [", in);
            for (int j = 0; j < os->napps; j++) {
                gk_app *a = &os->apps[j];
                const char *in2 = "          ";
                int f2 = 1;
                printf("%s\n        {", j ? "," : "");
                js_kv(in2, &f2, "name", a->name);
                js_kv(in2, &f2, "display_name", a->display_name);
                if (a->epoch)
                    js_ki(in2, &f2, "epoch", a->epoch);
                js_kv(in2, &f2, "version", a->version);
                js_kv(in2, &f2, "release", a->release);
                js_kv(in2, &f2, "arch", a->arch);
                js_kv(in2, &f2, "install_path", a->install_path);
                js_kv(in2, &f2, "publisher", a->publisher);
                js_kv(in2, &f2, "url", a->url);
                js_kv(in2, &f2, "source_package", a->source_package);
                js_kv(in2, &f2, "summary", a->summary);
                js_kv(in2, &f2, "description", a->description);
                printf("\n        }");
            }
            printf("%s]", os->napps ? "\n      " : "");
        }
        printf("\n    }");
    }
    printf("%s]\n}\n", g->noses ? "\n  " : "");
}

/* ------------------------------------------------------------------ */
/* --each: one JSON line per image (and --sqlite)                      */

/* The worker's report (ginspect --json, written by output_json) put into
 * the image's line as it is, only re-indented onto one line. */
static int fleet_report(gk_each_result *r, void *ud)
{
    struct opts *o = ud;
    json_object *insp = NULL;
    char *err = r->ok ? NULL : gk_strdup(r->error);
    if (r->ok) {
        size_t n = 0;
        char *s = gk_each_slurp(r, (size_t)256 << 20, &n);
        json_tokener *tok = json_tokener_new_ex(32);
        if (!s)
            err = gk_strdup(gk_errmsg());
        else if (!tok || n > INT_MAX ||
                 !(insp = json_tokener_parse_ex(tok, s, (int)n)) ||
                 json_tokener_get_error(tok) != json_tokener_success ||
                 !json_object_is_type(insp, json_type_object))
            err = gk_asprintf("%s: the worker's report does not parse as JSON", r->image);
        if (err && insp) {
            json_object_put(insp);
            insp = NULL;
        }
        if (tok)
            json_tokener_free(tok);
        free(s);
    }
    const char *status = err ? "error" : "ok";
    json_object *line = json_object_new_object();
    char *c = gk_utf8_clean(r->image);
    json_object_object_add(line, "image", json_object_new_string(c));
    free(c);
    json_object_object_add(line, "status", json_object_new_string(status));
    c = err ? gk_utf8_clean(err) : NULL;
    json_object_object_add(line, "error", c ? json_object_new_string(c) : NULL);
    free(c);
    if (r->nwarnings) {
        json_object *w = json_object_new_array();
        for (int i = 0; i < r->nwarnings; i++) {
            c = gk_utf8_clean(r->warnings[i]);
            json_object_array_add(w, json_object_new_string(c));
            free(c);
        }
        json_object_object_add(line, "warnings", w);
    }
    json_object_object_add(line, "inspection", insp ? json_object_get(insp) : NULL);
    puts(json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    if (o->db && gk_each_db_add(o->db, r, status, err, insp) < 0)
        gk_die_err();
    json_object_put(line);
    if (insp)
        json_object_put(insp);
    int failed = err != NULL;
    free(err);
    return failed && r->ok;
}

static void fleet_end(void *ud)
{
    struct opts *o = ud;
    if (o->db && gk_each_db_close(o->db) < 0)
        gk_die_err();
    o->db = NULL;
}

/* --xpath: a query over a report read from stdin (no inspection), printed
 * as virt-inspector does: matching nodes as XML, strings and other values
 * on a line of their own. */
static void do_xpath(const char *query)
{
    xmlDocPtr doc = xmlReadFd(STDIN_FILENO, NULL, "utf8", XML_PARSE_NOBLANKS | XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        gk_die("unable to parse XML from stdin");
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    if (!ctx)
        gk_die("unable to create new XPath context");
    xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST query, ctx);
    if (!obj)
        gk_die("unable to evaluate XPath expression");
    if (obj->type == XPATH_NODESET) {
        xmlNodeSetPtr nodes = obj->nodesetval;
        fflush(stdout);
        xmlSaveCtxtPtr save = xmlSaveToFd(STDOUT_FILENO, NULL, XML_SAVE_NO_DECL | XML_SAVE_FORMAT);
        if (!save)
            gk_die("xmlSaveToFd failed");
        for (int i = 0; nodes && i < nodes->nodeNr; i++) {
            xmlDocPtr wr = xmlNewDoc(BAD_CAST "1.0");
            xmlNodePtr n = xmlDocCopyNode(nodes->nodeTab[i], wr, 1);
            if (!wr || !n)
                gk_die("cannot copy an XML node");
            xmlDocSetRootElement(wr, n);
            if (xmlSaveDoc(save, wr) < 0)
                gk_die("xmlSaveDoc failed");
            xmlFreeDoc(wr);
        }
        xmlSaveClose(save);
    } else if (obj->type == XPATH_STRING) {
        const char *r = (const char *)obj->stringval;
        size_t n = strlen(r);
        printf("%s%s", r, n > 0 && r[n - 1] == '\n' ? "" : "\n");
    } else {
        xmlChar *r = xmlXPathCastToString(obj);
        printf("%s\n", r ? (const char *)r : "");
        xmlFree(r);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    if (fflush(stdout) != 0)
        gk_die("error writing standard output");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"no-applications", no_argument, 0, OPT_NO_APPS},
        {"no-icon", no_argument, 0, OPT_NO_ICON},
        {"xml", no_argument, 0, OPT_XML},
        {"json", no_argument, 0, OPT_JSON},
        {"xpath", required_argument, 0, OPT_XPATH},
        {"sqlite", required_argument, 0, GK_EACH_OPT_SQLITE},
        GK_EACH_LONGOPTS,
        {0, 0, 0, 0},
    };
    struct opts o = {.apps = 1};
    gk_cli c;
    gk_cli_parse(&c, "ginspect", argc, argv, "", longopts, handler, &o, usage);
    if (c.nmounts > 0)
        gk_die("-m cannot be used: ginspect always inspects");
    if (o.xpath) {
        if (c.ndrives > 0 || c.nargs > 0)
            gk_die("cannot use --xpath together with other options.");
        do_xpath(o.xpath);
        return 0;
    }
    /* old style: ginspect disk.img [disk2.img ...] */
    if (c.ndrives == 0 && c.nargs > 0) {
        c.drives = gk_calloc((size_t)c.nargs, sizeof *c.drives);
        for (; c.nargs > 0; c.nargs--, c.args++)
            c.drives[c.ndrives++].path = c.args[0];
    }
    if (!o.each.on && (o.each.from || o.each.jobs || o.each.timeout || o.each.memory || o.sqlite))
        gk_die("--from, --jobs, --timeout, --memory and --sqlite go with --each");
    if (c.ndrives == 0 && !(o.each.on && o.each.from)) {
        fprintf(stderr, "ginspect: you must specify at least one -a option.\n"
                        "Try 'ginspect --help' for more information.\n");
        exit(1);
    }
    if (c.nargs > 0)
        gk_die("extra argument \"%s\" on the command line", c.args[0]);
    if (o.each.on) {
        if (o.xml)
            gk_die("--each writes one JSON object per image: --xml cannot be used with it");
        if (o.sqlite)
            o.db = gk_each_db_create(o.sqlite);
        o.each.end = fleet_end;
        gk_each_run(&c, &o.each, fleet_report, &o);
        /* a worker: the report of its one image */
        gk_each_db_forget(o.db);
        o.db = NULL;
        o.json = 1;
    }

    /* rpm databases are copied into TMPDIR for sqlite: a private one */
    if (o.apps)
        c.sb.needs |= GK_SB_SCRATCH;
    c.sb.needs |= GK_SB_HIVES;
    gk_guest *g = gk_cli_launch(&c);
    if (gk_inspect_os(g) < 0)
        gk_die_err();
    /* virt-inspector reports no OS as an empty list; say what could not
     * be looked at, as that report may be incomplete */
    for (int i = 0; i < g->devs->nents; i++) {
        char *why = gk_guest_unreadable(g, &g->devs->ents[i]);
        if (why)
            gk_warn("%s: not inspected", why);
        free(why);
    }
    for (int i = 0; i < g->noses; i++) {
        gk_os *os = &g->oses[i];
        /* qsort's base must not be NULL, even for no elements */
        if (os->nmps > 1)
            qsort(os->mps, (size_t)os->nmps, sizeof *os->mps, cmp_mp);
        if (os->nfss > 1)
            qsort(os->fss, (size_t)os->nfss, sizeof *os->fss, cmp_fs);
        if (os->ndrives > 1)
            qsort(os->drives, (size_t)os->ndrives, sizeof *os->drives, cmp_drive);
        if (o.apps && gk_inspect_apps(g, os) < 0)
            gk_die_err();
    }
    if (o.json)
        output_json(g, o.apps);
    else
        output_xml(g, o.apps);
    if (fflush(stdout) != 0 || ferror(stdout))
        gk_die("error writing standard output");
    gk_inspect_free(g);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return 0;
}
