/*
 * rulefile.c: finds and reads the YAML rule files of enrichment.
 *
 * libyaml builds the whole document (the files are a few hundred KB), which
 * is then copied into palloc'd records and freed at once: no libyaml memory
 * outlives a call, even when an ERROR is raised half-way.  The file is
 * opened with AllocateFile so that an ERROR also closes it.
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>

#include <yaml.h>

#include "storage/fd.h"

#include "rulefile.h"

struct VtRuleFile
{
	const char *path;
	const VtRuleSource *src;
	bool		top_is_list;
	VtRuleList	top;
	int			nsections;
	char	  **names;
	VtRuleList *lists;
};

/*
 * Orders version-like strings: runs of digits compare as numbers, so that
 * "gems/x-1.0.10" sorts after "gems/x-1.0.9".
 */
static int
version_cmp(const char *a, const char *b)
{
	while (*a && *b)
	{
		if (isdigit((unsigned char) *a) && isdigit((unsigned char) *b))
		{
			const char *ea = a,
					   *eb = b;
			int			c;

			while (*a == '0' && isdigit((unsigned char) a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char) b[1]))
				b++;
			for (ea = a; isdigit((unsigned char) *ea); ea++)
				;
			for (eb = b; isdigit((unsigned char) *eb); eb++)
				;
			if (ea - a != eb - b)
				return (ea - a) < (eb - b) ? -1 : 1;
			c = strncmp(a, b, ea - a);
			if (c != 0)
				return c;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
		a++;
		b++;
	}
	return (unsigned char) *a - (unsigned char) *b;
}

char *
vt_rulefile_resolve(const char *setting_value, const VtRuleSource *src)
{
	glob_t		g;
	int			rc;
	char	   *best = NULL;
	size_t		i;

	if (strpbrk(setting_value, "*?[") == NULL)
		return pstrdup(setting_value);

	rc = glob(setting_value, 0, NULL, &g);
	if (rc == 0)
	{
		for (i = 0; i < g.gl_pathc; i++)
			if (best == NULL || version_cmp(g.gl_pathv[i], best) > 0)
				best = g.gl_pathv[i];
		best = pstrdup(best);
	}
	globfree(&g);
	if (best == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("no %s matches \"%s\"", src->what, setting_value),
				 errhint("Install the Debian package %s, or point %s at a readable file.",
						 src->package, src->setting)));
	return best;
}

/* A plain scalar that YAML reads as null: "", "~", "null". */
static bool
is_null_scalar(const yaml_node_t *node)
{
	const char *v = (const char *) node->data.scalar.value;

	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 ||
		pg_strcasecmp(v, "null") == 0;
}

static char *
scalar_copy(const yaml_node_t *node)
{
	return pnstrdup((const char *) node->data.scalar.value, node->data.scalar.length);
}

/* One mapping of the sequence into a record of its scalar fields. */
static void
read_record(yaml_document_t *doc, yaml_node_t *map, VtRuleRecord *rec)
{
	int			npairs = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	yaml_node_pair_t *pair;

	rec->line = (int) map->start_mark.line + 1;
	rec->nfields = 0;
	rec->keys = palloc(sizeof(char *) * Max(npairs, 1));
	rec->values = palloc(sizeof(char *) * Max(npairs, 1));
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(doc, pair->value);

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
			v->type != YAML_SCALAR_NODE || is_null_scalar(v))
			continue;
		rec->keys[rec->nfields] = scalar_copy(k);
		rec->values[rec->nfields] = scalar_copy(v);
		rec->nfields++;
	}
}

/* A sequence of mappings into list, one record per mapping. */
static void
read_list(yaml_document_t *doc, yaml_node_t *seq, VtRuleList *list)
{
	int			n = seq->data.sequence.items.top - seq->data.sequence.items.start;
	yaml_node_item_t *item;

	list->nrecords = 0;
	list->records = palloc(sizeof(VtRuleRecord) * Max(n, 1));
	for (item = seq->data.sequence.items.start; item < seq->data.sequence.items.top; item++)
	{
		yaml_node_t *node = yaml_document_get_node(doc, *item);

		if (node == NULL || node->type != YAML_MAPPING_NODE)
			continue;
		read_record(doc, node, &list->records[list->nrecords++]);
	}
}

/* ERROR: the file is YAML but not of the expected shape (detail says how). */
static void
shape_error(VtRuleFile *file, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("%s \"%s\" is not in the expected format", file->src->what, file->path),
			 errdetail("%s", detail),
			 errhint("Reinstall the Debian package %s, or point %s at a file of that package.",
					 file->src->package, file->src->setting)));
}

/*
 * The top sequence of the document, or the sequences of its top mapping,
 * into file.
 */
static void
read_document(VtRuleFile *file, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_pair_t *pair;
	int			n;

	if (root == NULL)
		shape_error(file, "The file is empty.");
	if (root->type == YAML_SEQUENCE_NODE)
	{
		file->top_is_list = true;
		read_list(doc, root, &file->top);
		return;
	}
	if (root->type != YAML_MAPPING_NODE)
		shape_error(file, "The document is neither a list nor a mapping.");
	n = root->data.mapping.pairs.top - root->data.mapping.pairs.start;
	file->names = palloc(sizeof(char *) * Max(n, 1));
	file->lists = palloc(sizeof(VtRuleList) * Max(n, 1));
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++)
	{
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(doc, pair->value);

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
			v->type != YAML_SEQUENCE_NODE)
			continue;
		file->names[file->nsections] = scalar_copy(k);
		read_list(doc, v, &file->lists[file->nsections]);
		file->nsections++;
	}
}

VtRuleFile *
vt_rulefile_read(const char *path, const VtRuleSource *src)
{
	VtRuleFile *file = palloc0(sizeof(VtRuleFile));
	FILE	   *fp;
	yaml_parser_t parser;
	yaml_document_t doc;
	bool		loaded;

	file->path = pstrdup(path);
	file->src = src;

	fp = AllocateFile(path, "rb");
	if (fp == NULL)
	{
		bool		missing = (errno == ENOENT || errno == ENOTDIR);

		ereport(ERROR,
				(missing ? errcode(ERRCODE_UNDEFINED_FILE) : errcode_for_file_access(),
				 errmsg("could not open %s \"%s\": %m", src->what, path),
				 errhint("Install the Debian package %s, or point %s at a readable file.",
						 src->package, src->setting)));
	}

	if (!yaml_parser_initialize(&parser))
	{
		FreeFile(fp);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while reading %s", src->what)));
	}
	yaml_parser_set_input_file(&parser, fp);
	loaded = yaml_parser_load(&parser, &doc) != 0;
	if (!loaded)
	{
		char		problem[256];
		int			line = (int) parser.problem_mark.line + 1;

		strlcpy(problem, parser.problem ? parser.problem : "unknown error", sizeof(problem));
		yaml_parser_delete(&parser);
		FreeFile(fp);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not parse %s \"%s\" at line %d: %s",
						src->what, path, line, problem),
				 errhint("Reinstall the Debian package %s, or point %s at a file of that package.",
						 src->package, src->setting)));
	}
	yaml_parser_delete(&parser);
	FreeFile(fp);

	PG_TRY();
	{
		read_document(file, &doc);
	}
	PG_FINALLY();
	{
		yaml_document_delete(&doc);
	}
	PG_END_TRY();
	return file;
}

const VtRuleList *
vt_rulefile_list(VtRuleFile *file, const char *section)
{
	int			i;

	if (section == NULL)
	{
		if (!file->top_is_list)
			shape_error(file, "The document is not a list.");
		return &file->top;
	}
	for (i = 0; i < file->nsections; i++)
		if (strcmp(file->names[i], section) == 0)
			return &file->lists[i];
	shape_error(file, psprintf("The document has no list named \"%s\".", section));
	return NULL;				/* not reached */
}

const char *
vt_rule_field(const VtRuleRecord *rec, const char *key)
{
	int			i;

	for (i = 0; i < rec->nfields; i++)
		if (strcmp(rec->keys[i], key) == 0)
			return rec->values[i];
	return NULL;
}
