/*
 * masterfile_kernel: the master file's per-key feature computation, in C.
 *
 * refresh_features (sql/tenant/060_features.sql) aggregates each key's lines
 * into weekly facts with SQL, then calls features_kernel_by_kind() once per
 * key with the key's weeks as arrays and the features to compute: the kind,
 * input series and parameter of each, as sql/control/015_features_declared.sql
 * declares them. The kernel walks the weeks once and returns one row per week
 * computed, one column per feature, computed by its kind; it keeps no list
 * of columns of its own. The kinds here are the stored ones: those derived
 * from other features of the same week (on_hand, on_order, cover,
 * avg_price) are computed when the master file is read (pyloader/features.py).
 *
 * Why C: the same columns as ~80 window functions cost ~1 us each per
 * key-week (a full rebuild of 2M key-weeks took 4.4x the pandas pipeline),
 * and PL/Python hands values back through their text form (~0.7 us each).
 * Here a key-week costs a few hundred nanoseconds.
 *
 * The arrays start up to 51 weeks before the first week computed (the stored
 * weeks that trailing windows and lags still need) and the stored row of the
 * week before comes in `seed`, from which each kind that carries a state
 * (ewm, running sums, the weeks of a first and last sale, the last cost)
 * starts. Every trailing window is summed afresh from its own weeks in a
 * fixed order, so a week's values do not depend on where a computation
 * started: an incremental run and a full rebuild write the same bits.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_MODULE_MAGIC;

/* facts, in argument order after the week numbers: the kernel's input series */
enum
{
	F_SOLD, F_RETURNED, F_REVENUE, F_RECEIVED, F_ORDERED, F_INVOICED, F_INVOICED_AMOUNT, N_FACTS
};

static const char *const fact_names[N_FACTS] = {
	"units_sold", "units_returned", "revenue", "units_received", "units_ordered", "units_invoiced",
	"invoiced_amount"
};

#define MAX_LOOKBACK 51			/* the widest window (52) reaches 51 weeks back */
#define MAX_WEEKS 10000		/* weeks per key a call may compute: about 190 years */
#define MAX_FEATURES 1000		/* columns a declaration may have (a table has at most 1,600) */

/*
 * The kinds of sql/control/015_features_declared.sql, where each is defined;
 * pyloader/features.py's KINDS holds the same, with the derived kinds besides
 * (tests compare them).
 */
typedef enum
{
	K_FACT, K_LAG, K_EWM, K_MEAN, K_STD, K_MAX, K_ZERO_SHARE, K_SLOPE, K_CUMULATIVE,
	K_YEAR_TO_DATE, K_WEEKS_SINCE_FIRST, K_WEEKS_SINCE_LAST, K_LAST_UNIT_COST, N_KINDS
} Kind;

typedef enum
{
	P_NONE, P_LAG, P_SPAN, P_WINDOW
} FeatureParam;

static const struct
{
	const char *name;
	bool		input;			/* reads an input series */
	FeatureParam	param;
	bool		integer;		/* an integer column, else double precision */
}			kinds[N_KINDS] = {
	[K_FACT] = {"fact", true, P_NONE, false},
	[K_LAG] = {"lag", true, P_LAG, false},
	[K_EWM] = {"ewm", true, P_SPAN, false},
	[K_MEAN] = {"mean", true, P_WINDOW, false},
	[K_STD] = {"std", true, P_WINDOW, false},
	[K_MAX] = {"max", true, P_WINDOW, false},
	[K_ZERO_SHARE] = {"zero_share", true, P_WINDOW, false},
	[K_SLOPE] = {"slope", true, P_WINDOW, false},
	[K_CUMULATIVE] = {"cumulative", true, P_NONE, false},
	[K_YEAR_TO_DATE] = {"year_to_date", true, P_NONE, false},
	[K_WEEKS_SINCE_FIRST] = {"weeks_since_first", true, P_NONE, true},
	[K_WEEKS_SINCE_LAST] = {"weeks_since_last", true, P_NONE, true},
	[K_LAST_UNIT_COST] = {"last_unit_cost", false, P_NONE, false},
};

/* one declared feature, resolved */
typedef struct
{
	Kind		kind;
	int			input;			/* F_*, or -1 */
	int			param;			/* lag, span or window; 0 when none */
	int			slot;			/* mean, std, slope: the slot of its window's sum */
} Feature;

/*
 * A declaration parsed once per call site (the arrays are the call's
 * constants; a call with other arrays parses them again): the features,
 * the distinct (input, window) sums their windows share, and the raw arrays
 * it was parsed from.
 */
typedef struct
{
	int			n;
	Feature    *f;
	int			n_slots;
	int			slot_input[MAX_FEATURES];
	int			slot_window[MAX_FEATURES];
	bytea	   *raw[3];
} Declaration;

static int
window_slot(Declaration *plan, int input, int window)
{
	for (int s = 0; s < plan->n_slots; s++)
		if (plan->slot_input[s] == input && plan->slot_window[s] == window)
			return s;
	plan->slot_input[plan->n_slots] = input;
	plan->slot_window[plan->n_slots] = window;
	return plan->n_slots++;
}

static bool
same_array(bytea *cached, ArrayType *a)
{
	return VARSIZE(cached) == VARSIZE(a) && memcmp(cached, a, VARSIZE(a)) == 0;
}

/*
 * The declaration of the call, parsed: from fn_extra when the arrays are the
 * ones parsed last. Checks what the computation relies on (a known kind, its
 * input and parameter, windows and lags within the stored weeks over the two
 * series those carry) and that the result columns the caller declared have
 * the types of the kinds.
 */
static Declaration *
declaration(FunctionCallInfo fcinfo, TupleDesc desc)
{
	Declaration *plan = (Declaration *) fcinfo->flinfo->fn_extra;
	ArrayType  *arr[3];
	Datum	   *kd,
			   *id,
			   *pd;
	bool	   *kn,
			   *in,
			   *pn;
	int			nk,
				ni,
				np;
	MemoryContext old;

	for (int a = 0; a < 3; a++)
	{
		if (PG_ARGISNULL(a))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: the declaration (arguments 1 to 3) is null")));
		arr[a] = PG_GETARG_ARRAYTYPE_P(a);
	}
	if (plan != NULL && same_array(plan->raw[0], arr[0]) && same_array(plan->raw[1], arr[1])
		&& same_array(plan->raw[2], arr[2]))
		return plan;

	if (ARR_ELEMTYPE(arr[0]) != TEXTOID || ARR_ELEMTYPE(arr[1]) != TEXTOID || ARR_ELEMTYPE(arr[2]) != INT4OID
		|| ARR_NDIM(arr[0]) > 1 || ARR_NDIM(arr[1]) > 1 || ARR_NDIM(arr[2]) > 1)
		elog(ERROR, "features_kernel: the declaration is kinds text[], inputs text[], params integer[]");
	deconstruct_array(arr[0], TEXTOID, -1, false, TYPALIGN_INT, &kd, &kn, &nk);
	deconstruct_array(arr[1], TEXTOID, -1, false, TYPALIGN_INT, &id, &in, &ni);
	deconstruct_array(arr[2], INT4OID, sizeof(int32), true, TYPALIGN_INT, &pd, &pn, &np);
	if (nk != ni || nk != np || nk > MAX_FEATURES)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("features_kernel: the declaration has %d kinds, %d inputs and %d parameters "
							   "(at most %d features)", nk, ni, np, MAX_FEATURES)));

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (plan != NULL)
	{
		pfree(plan->f);
		for (int a = 0; a < 3; a++)
			pfree(plan->raw[a]);
	}
	else
		plan = palloc(sizeof(Declaration));
	plan->n = nk;
	plan->n_slots = 0;
	plan->f = palloc0(sizeof(Feature) * Max(nk, 1));
	for (int a = 0; a < 3; a++)
	{
		plan->raw[a] = palloc(VARSIZE(arr[a]));
		memcpy(plan->raw[a], arr[a], VARSIZE(arr[a]));
	}
	/* invalid until complete: an error below leaves no half-parsed plan to reuse */
	fcinfo->flinfo->fn_extra = NULL;
	MemoryContextSwitchTo(old);

	for (int j = 0; j < nk; j++)
	{
		Feature    *f = &plan->f[j];
		char	   *kind = kn[j] ? NULL : TextDatumGetCString(kd[j]);
		int			k;

		for (k = 0; k < N_KINDS; k++)
			if (kind && strcmp(kind, kinds[k].name) == 0)
				break;
		if (k == N_KINDS)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: feature %d: unknown kind %s", j + 1, kind ? kind : "null")));
		f->kind = (Kind) k;
		f->input = -1;
		if (!in[j])
		{
			char	   *input = TextDatumGetCString(id[j]);

			for (int x = 0; x < N_FACTS; x++)
				if (strcmp(input, fact_names[x]) == 0)
					f->input = x;
			if (f->input < 0)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("features_kernel: feature %d: unknown input %s", j + 1, input)));
		}
		if (kinds[k].input != (f->input >= 0))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: feature %d: kind %s takes %s", j + 1, kind,
								   kinds[k].input ? "an input" : "no input")));
		f->param = pn[j] ? 0 : DatumGetInt32(pd[j]);
		if ((kinds[k].param == P_NONE) != pn[j] || (!pn[j] && f->param < 1))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: feature %d: kind %s takes %s", j + 1, kind,
								   kinds[k].param == P_NONE ? "no parameter" : "a parameter >= 1")));
		if ((kinds[k].param == P_LAG && f->param > MAX_LOOKBACK)
			|| (kinds[k].param == P_WINDOW && f->param > MAX_LOOKBACK + 1))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: feature %d (%s %d) reaches beyond the %d stored weeks read",
								   j + 1, kind, f->param, MAX_LOOKBACK)));
		/* the stored weeks before the start carry these two series only */
		if ((kinds[k].param == P_LAG || kinds[k].param == P_WINDOW) && f->input >= 0
			&& f->input != F_SOLD && f->input != F_REVENUE)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: feature %d (%s): windows and lags read units_sold or revenue only",
								   j + 1, kind)));
		if (f->kind == K_MEAN || f->kind == K_STD || f->kind == K_SLOPE)
			f->slot = window_slot(plan, f->input, f->param);
	}
	/* the caller's column definition list: week_start, week_index, then one per feature */
	if (desc->natts != nk + 2)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
						errmsg("features_kernel: %d result columns for %d features (week_start, week_index, then one each)",
							   desc->natts, nk)));
	for (int c = 0; c < desc->natts; c++)
	{
		Oid			want = c == 0 ? DATEOID : c == 1 ? INT4OID
			: kinds[plan->f[c - 2].kind].integer ? INT4OID : FLOAT8OID;

		if (TupleDescAttr(desc, c)->atttypid != want)
			ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
							errmsg("features_kernel: result column %d (%s) must be %s", c + 1,
								   NameStr(TupleDescAttr(desc, c)->attname), format_type_be(want))));
	}
	fcinfo->flinfo->fn_extra = plan;
	return plan;
}

PG_FUNCTION_INFO_V1(features_kernel_by_kind);

/* the elements of a one-dimensional float8 array; nulls where allowed */
static double *
float8_elements(ArrayType *a, int n, bool **nulls, const char *name)
{
	Datum	   *datums;
	bool	   *isnull;
	int			count;
	double	   *out;

	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "features_kernel: %s is not a double precision array", name);
	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &datums, &isnull, &count);
	if (count != n)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("features_kernel: %s has %d elements, expected %d", name, count, n)));
	out = palloc(sizeof(double) * Max(n, 1));
	for (int k = 0; k < n; k++)
	{
		if (isnull[k] && nulls == NULL)
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: %s holds a null", name)));
		out[k] = isnull[k] ? 0.0 : DatumGetFloat8(datums[k]);
	}
	if (nulls)
		*nulls = isnull;
	return out;
}
/* calendar year of a date */
static int
date_year(DateADT d)
{
	int			year,
				month,
				day;

	j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	return year;
}

/*
 * features_kernel(kinds text[], inputs text[], params integer[],
 *                 first_week date, start_index int, stop_index int, i int[],
 *                 sold, returned, revenue, received, ordered, invoiced,
 *                 invoiced_amount float8[], unit_cost float8[],
 *                 has_cost bool[], seed float8[],
 *                 prior_sold bytea, prior_revenue bytea)
 *   RETURNS SETOF record (week_start date, week_index integer, one column per feature)
 *
 * The first three arrays are the declaration (one element per feature, in
 * the order of the result's columns after week_index): each feature's kind,
 * input series and parameter, as sql/control/015_features_declared.sql
 * defines them. The kernel computes by kind; it keeps no list of columns.
 *
 * Computes weeks start_index..stop_index (week numbers from first_week).
 * The arrays hold entries (week number i, facts) in any order: a week's
 * entries are added up and a week without any is zero, so each ERP table
 * can contribute its own entry. Entries before start_index are the stored
 * weeks the windows and lags read (up to 51 back), exactly one per week;
 * or those weeks come as prior_sold and prior_revenue (float8send() values,
 * oldest first), and no entry precedes start_index.
 * unit_cost is the cost of the week's latest costed invoice line (null when
 * that line has no amount), has_cost whether the entry has one.
 * seed is the stored row of the week before start_index, one element per
 * feature (null: none): the features that carry a state from week to week
 * start from their own column of it.
 */
Datum
features_kernel_by_kind(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Declaration *plan;
	int			nf;
	DateADT		first_week;
	int			start_index,
				stop_index;
	int			base;			/* week number of position 0 */
	int			n;				/* weeks base..stop_index */
	int			m = 0;			/* entries */
	int32	   *iv = NULL;
	int			prior = 0;
	bool	   *prior_seen;
	double	   *x[N_FACTS];
	double	   *unit_cost;
	bool	   *cost_null,
			   *has_cost;
	double	   *seed;
	bool	   *seed_null;
	double	   *state;			/* per feature: its running value (ewm, sums, cost; a week number) */
	bool	   *state_set;
	double	   *sums;			/* per window slot: the sum over the window this week */
	int		   *lens;
	int			prev_year = 0;
	Datum	   *values;
	bool	   *nulls;
	static const char *const arg_names[N_FACTS] = {
		"sold", "returned", "revenue", "received", "ordered", "invoiced", "invoiced_amount"
	};

	for (int a = 3; a < 6; a++)
		if (PG_ARGISNULL(a))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: argument %d is null", a + 1)));

	/*
	 * The result descriptor the function scan already built from the
	 * caller's column definition list: built again per call it cost most of
	 * a one-week call (a calendar roll makes one per key).
	 */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	plan = declaration(fcinfo, rsinfo->setDesc);
	nf = plan->n;

	first_week = PG_GETARG_DATEADT(3);
	start_index = PG_GETARG_INT32(4);
	stop_index = PG_GETARG_INT32(5);
	if (start_index < 0 || stop_index < start_index)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("features_kernel: no weeks %d..%d to compute", start_index, stop_index)));
	/*
	 * Bounded: the loader keeps line dates from 1990 to two years ahead and
	 * as_of_date likewise, about 2,000 weeks; anything far beyond is a
	 * caller's error, not a key's history, and would allocate without bound.
	 */
	if (stop_index >= MAX_WEEKS)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("features_kernel: %d weeks requested, at most %d are computed per key",
							   stop_index + 1, MAX_WEEKS)));
	base = start_index - Min(MAX_LOOKBACK, start_index);
	n = stop_index - base + 1;

	/* no entries at all (an empty aggregate is null): every week is zero */
	if (!PG_ARGISNULL(6))
	{
		ArrayType  *i_arr = PG_GETARG_ARRAYTYPE_P(6);

		if (ARR_ELEMTYPE(i_arr) != INT4OID || ARR_NDIM(i_arr) > 1 || ARR_HASNULL(i_arr))
			elog(ERROR, "features_kernel: i must be a one-dimensional integer array without nulls");
		m = ArrayGetNItems(ARR_NDIM(i_arr), ARR_DIMS(i_arr));
		iv = (int32 *) ARR_DATA_PTR(i_arr);
	}
	for (int a = 7; a < 16; a++)
		if (m > 0 && PG_ARGISNULL(a))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: argument %d is null", a + 1)));

	for (int f = 0; f < N_FACTS; f++)
		x[f] = palloc0(sizeof(double) * n);
	unit_cost = palloc0(sizeof(double) * n);
	cost_null = palloc(sizeof(bool) * n);
	memset(cost_null, true, sizeof(bool) * n);
	has_cost = palloc0(sizeof(bool) * n);
	prior_seen = palloc0(sizeof(bool) * n);

	if (m > 0)
	{
		double	   *facts[N_FACTS];
		double	   *cost_in;
		bool	   *cost_null_in;
		bool	   *has_cost_in;

		for (int f = 0; f < N_FACTS; f++)
			facts[f] = float8_elements(PG_GETARG_ARRAYTYPE_P(7 + f), m, NULL, arg_names[f]);
		cost_in = float8_elements(PG_GETARG_ARRAYTYPE_P(14), m, &cost_null_in, "unit_cost");
		{
			ArrayType  *h = PG_GETARG_ARRAYTYPE_P(15);
			Datum	   *datums;
			bool	   *isnull;
			int			count;

			if (ARR_ELEMTYPE(h) != BOOLOID)
				elog(ERROR, "features_kernel: has_cost is not a boolean array");
			deconstruct_array(h, BOOLOID, 1, true, TYPALIGN_CHAR, &datums, &isnull, &count);
			if (count != m)
				elog(ERROR, "features_kernel: has_cost has %d elements, expected %d", count, m);
			has_cost_in = palloc(sizeof(bool) * m);
			for (int k = 0; k < m; k++)
				has_cost_in[k] = !isnull[k] && DatumGetBool(datums[k]);
		}

		for (int k = 0; k < m; k++)
		{
			int			p = iv[k] - base;

			if (iv[k] < base || iv[k] > stop_index)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("features_kernel: week %d outside weeks %d..%d", iv[k], base, stop_index)));
			if (iv[k] < start_index)
			{
				if (prior_seen[p])
					ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
									errmsg("features_kernel: stored week %d given twice", iv[k])));
				prior_seen[p] = true;
				prior++;
			}
			for (int f = 0; f < N_FACTS; f++)
				x[f][p] += facts[f][k];
			if (has_cost_in[k])
			{
				has_cost[p] = true;
				unit_cost[p] = cost_in[k];
				cost_null[p] = cost_null_in[k];
			}
		}
	}
	/*
	 * Or the stored weeks before the start as two series (prior_sold,
	 * prior_revenue: float8send() values, oldest first, ending the week
	 * before the start), as the key's stored tails give them. Only sold and
	 * revenue of those weeks are read (lags and windows read no other).
	 */
	if (!PG_ARGISNULL(17) || !PG_ARGISNULL(18))
	{
		int			weeks = start_index - base;
		bytea	   *series[2];
		static const int series_fact[2] = {F_SOLD, F_REVENUE};

		if (PG_ARGISNULL(17) || PG_ARGISNULL(18))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: prior_sold and prior_revenue go together")));
		if (prior > 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: stored weeks given both as entries and as prior series")));
		series[0] = PG_GETARG_BYTEA_PP(17);
		series[1] = PG_GETARG_BYTEA_PP(18);
		for (int s = 0; s < 2; s++)
		{
			const char *data = VARDATA_ANY(series[s]);

			if (VARSIZE_ANY_EXHDR(series[s]) != (Size) weeks * 8)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("features_kernel: %s holds %d bytes, need %d stored weeks before week %d",
									   s == 0 ? "prior_sold" : "prior_revenue",
									   (int) VARSIZE_ANY_EXHDR(series[s]), weeks, start_index)));
			for (int p = 0; p < weeks; p++)
			{
				uint64		bits;
				double		value;

				memcpy(&bits, data + 8 * p, 8);
				bits = pg_ntoh64(bits);
				memcpy(&value, &bits, 8);
				x[series_fact[s]][p] = value;
			}
		}
		prior = weeks;
	}
	if (prior != start_index - base)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("features_kernel: %d stored weeks before week %d, need %d",
							   prior, start_index, start_index - base)));

	if (PG_ARGISNULL(16))
	{
		seed = palloc0(sizeof(double) * Max(nf, 1));
		seed_null = palloc(sizeof(bool) * Max(nf, 1));
		memset(seed_null, true, sizeof(bool) * Max(nf, 1));
	}
	else
		seed = float8_elements(PG_GETARG_ARRAYTYPE_P(16), nf, &seed_null, "seed");

	/* the running state at the week before the start, from its stored row */
	state = palloc0(sizeof(double) * Max(nf, 1));
	state_set = palloc0(sizeof(bool) * Max(nf, 1));
	sums = palloc0(sizeof(double) * Max(plan->n_slots, 1));
	lens = palloc0(sizeof(int) * Max(plan->n_slots, 1));
	values = palloc(sizeof(Datum) * (nf + 2));
	nulls = palloc(sizeof(bool) * (nf + 2));
	{
		/* a year to date carries over only within the start week's year */
		bool		same_year = start_index > 0
			&& date_year(first_week + 7 * (start_index - 1)) == date_year(first_week + 7 * start_index);

		for (int j = 0; j < nf; j++)
		{
			switch (plan->f[j].kind)
			{
				case K_EWM:
				case K_LAST_UNIT_COST:
					state_set[j] = !seed_null[j];
					state[j] = seed[j];
					break;
				case K_CUMULATIVE:
					state[j] = seed_null[j] ? 0.0 : seed[j];
					break;
				case K_YEAR_TO_DATE:
					state[j] = seed_null[j] || !same_year ? 0.0 : seed[j];
					break;
				case K_WEEKS_SINCE_FIRST:
				case K_WEEKS_SINCE_LAST:
					/* the week number it counts from: the stored row's week minus its value */
					state_set[j] = !seed_null[j];
					state[j] = (start_index - 1) - seed[j];
					break;
				default:
					break;
			}
		}
	}

	for (int p = start_index - base; p < n; p++)
	{
		int			i = base + p;

		DateADT		week_start = first_week + 7 * i;
		int			year = date_year(week_start);
		bool		new_year = p > start_index - base && year != prev_year;

		CHECK_FOR_INTERRUPTS();
		prev_year = year;
		memset(nulls, false, sizeof(bool) * (nf + 2));
		values[0] = DateADTGetDatum(week_start);
		values[1] = Int32GetDatum(i);

		/*
		 * The sums over the windows, each from its own weeks in a fixed
		 * order (so a week's values do not depend on where a computation
		 * started); means, deviations and slopes of one window share it.
		 */
		for (int s = 0; s < plan->n_slots; s++)
		{
			const double *xs = x[plan->slot_input[s]];
			int			len = Min(plan->slot_window[s], i + 1);
			double		sum = 0.0;

			for (int q = p - len + 1; q <= p; q++)
				sum += xs[q];
			sums[s] = sum;
			lens[s] = len;
		}

		for (int j = 0; j < nf; j++)
		{
			const Feature *f = &plan->f[j];
			const double *xs = f->input >= 0 ? x[f->input] : NULL;
			int			c = j + 2;
			double		v = 0.0;
			bool		null = false;

			switch (f->kind)
			{
				case K_FACT:
					v = xs[p];
					break;
				case K_LAG:
					/* null before the first week */
					if (i - f->param < 0)
						null = true;
					else
						v = xs[p - f->param];
					break;
				case K_EWM:
					{
						/*
						 * As pandas' ewm(span, adjust=False).mean(): e_0 =
						 * x_0, then (b e + a x) / (b + a) with a = 1 / (1 +
						 * (span - 1) / 2), b = 1 - a, skipped when e equals x.
						 */
						double		alpha = 1.0 / (1.0 + (f->param - 1) / 2.0);
						double		beta = 1.0 - alpha;

						if (!state_set[j])
							state[j] = xs[p];
						else if (state[j] != xs[p])
							state[j] = (beta * state[j] + alpha * xs[p]) / (beta + alpha);
						state_set[j] = true;
						v = state[j];
						break;
					}
				case K_MEAN:
					v = sums[f->slot] / lens[f->slot];
					break;
				case K_STD:
					{
						/* sample standard deviation, two passes */
						int			len = lens[f->slot];
						double		mean = sums[f->slot] / len;
						double		squares = 0.0;

						if (len < 2)
						{
							null = true;
							break;
						}
						for (int q = p - len + 1; q <= p; q++)
						{
							double		d = xs[q] - mean;

							squares += d * d;
						}
						v = sqrt(squares / (len - 1));
						break;
					}
				case K_MAX:
					{
						int			len = Min(f->param, i + 1);

						v = xs[p];
						for (int q = p - len + 1; q <= p; q++)
							v = Max(v, xs[q]);
						break;
					}
				case K_ZERO_SHARE:
					{
						int			len = Min(f->param, i + 1);
						int			zeros = 0;

						for (int q = p - len + 1; q <= p; q++)
							zeros += xs[q] == 0.0;
						v = (double) zeros / len;
						break;
					}
				case K_SLOPE:
					{
						/* OLS against the week number, centred, around the window's mean */
						int			len = lens[f->slot];
						double		mean = sums[f->slot] / len;
						double		sxy = 0.0;

						if (len < 2)
						{
							null = true;
							break;
						}
						/* week q's centred number is (q - p) + (len - 1) / 2 */
						for (int q = p - len + 1; q <= p; q++)
							sxy += ((q - p) + (len - 1) / 2.0) * (xs[q] - mean);
						v = sxy / (len * ((double) len * len - 1) / 12.0);
						break;
					}
				case K_CUMULATIVE:
					state[j] += xs[p];
					v = state[j];
					break;
				case K_YEAR_TO_DATE:
					/* the seed is already the start week's year's; later weeks reset at a new year */
					if (new_year)
						state[j] = 0.0;
					state[j] += xs[p];
					v = state[j];
					break;
				case K_WEEKS_SINCE_FIRST:
				case K_WEEKS_SINCE_LAST:
					if (xs[p] > 0 && (f->kind == K_WEEKS_SINCE_LAST || !state_set[j]))
					{
						state[j] = i;
						state_set[j] = true;
					}
					if (state_set[j])
						values[c] = Int32GetDatum(i - (int) state[j]);
					else
						nulls[c] = true;
					continue;
				case K_LAST_UNIT_COST:
					if (has_cost[p])
					{
						state_set[j] = !cost_null[p];
						state[j] = unit_cost[p];
					}
					null = !state_set[j];
					v = state[j];
					break;
				case N_KINDS:
					break;
			}
			if (null)
				nulls[c] = true;
			else
				values[c] = Float8GetDatum(v);
		}

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
