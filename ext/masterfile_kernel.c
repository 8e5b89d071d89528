/*
 * masterfile_kernel: the master file's per-key feature computation, in C.
 *
 * refresh_features (sql/tenant/060_features.sql) aggregates each key's lines
 * into weekly facts with SQL, then calls features_kernel() once per key with
 * the key's weeks as arrays. The kernel walks the weeks once and returns one
 * row per week computed, with every stored feature column (features.md).
 *
 * Why C: the same columns as ~80 window functions cost ~1 us each per
 * key-week (a full rebuild of 2M key-weeks took 4.4x the pandas pipeline),
 * and PL/Python hands values back through their text form (~0.7 us each).
 * Here a key-week costs a few hundred nanoseconds.
 *
 * The arrays start up to 51 weeks before the first week computed (the stored
 * weeks that trailing windows and lags still need) and the running state of
 * the stored row of the week before comes in `seed`. Every trailing window
 * is summed afresh from its own weeks in a fixed order, so a week's values do
 * not depend on where a computation started: an incremental run and a full
 * rebuild write the same bits.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_MODULE_MAGIC;

/* the seed array, in this order (null where nothing is stored) */
enum
{
	SEED_EWM = 0,				/* 16: sold, revenue, received, returned x spans 2, 4, 8, 13 */
	SEED_CUM = 16,				/* 6: sold, returned, revenue, received, ordered, invoiced */
	SEED_YTD = 22,				/* 2: sold, revenue (0 unless the start week's year) */
	SEED_FIRST_SALE = 24,		/* week index of the first week with a sale */
	SEED_LAST_SALE = 25,		/* week index of the latest week with a sale */
	SEED_LAST_COST = 26,		/* last_invoice_unit_cost */
	N_SEED = 27
};

/* facts, in argument order after the week numbers */
enum
{
	F_SOLD, F_RETURNED, F_REVENUE, F_RECEIVED, F_ORDERED, F_INVOICED, F_INVOICED_AMOUNT, N_FACTS
};

#define N_SPANS 4
#define N_LAGS 14
#define N_OUT 72
#define MAX_LOOKBACK 51			/* the widest window (52) reaches 51 weeks back */
#define MAX_WEEKS 10000		/* weeks per key a call may compute: about 190 years */

static const int spans[N_SPANS] = {2, 4, 8, 13};
/* ewm metrics in column order: units_sold, revenue, units_received, units_returned */
static const int ewm_facts[4] = {F_SOLD, F_REVENUE, F_RECEIVED, F_RETURNED};
static const int mean_windows[5] = {4, 8, 13, 26, 52};
static const int slope_windows[4] = {4, 8, 13, 26};

PG_FUNCTION_INFO_V1(features_kernel);

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
 * features_kernel(first_week date, start_index int, stop_index int, i int[],
 *                 sold, returned, revenue, received, ordered, invoiced,
 *                 invoiced_amount float8[], unit_cost float8[],
 *                 has_cost bool[], seed float8[],
 *                 prior_sold bytea, prior_revenue bytea)
 *   RETURNS SETOF (the features columns from week_start on)
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
 */
Datum
features_kernel(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
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
	double		ewm[4][N_SPANS];
	bool		ewm_set;
	double		cum[6];
	double		ytd_sold,
				ytd_revenue;
	bool		first_sale_set,
				last_sale_set;
	int			first_sale = 0,
				last_sale = 0;
	double		last_cost = 0.0;
	bool		last_cost_set;
	int			prev_year = 0;
	Datum		values[N_OUT];
	bool		nulls[N_OUT];
	static const char *const fact_names[N_FACTS] = {
		"sold", "returned", "revenue", "received", "ordered", "invoiced", "invoiced_amount"
	};

	for (int a = 0; a < 3; a++)
		if (PG_ARGISNULL(a))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: argument %d is null", a + 1)));

	/*
	 * The result descriptor the function scan already built: without the flag
	 * each call builds it again from pg_proc's 72 OUT arguments, which was 24
	 * of the 30 us a one-week call took (a calendar roll makes one per key).
	 */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	first_week = PG_GETARG_DATEADT(0);
	start_index = PG_GETARG_INT32(1);
	stop_index = PG_GETARG_INT32(2);
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
	if (!PG_ARGISNULL(3))
	{
		ArrayType  *i_arr = PG_GETARG_ARRAYTYPE_P(3);

		if (ARR_ELEMTYPE(i_arr) != INT4OID || ARR_NDIM(i_arr) > 1 || ARR_HASNULL(i_arr))
			elog(ERROR, "features_kernel: i must be a one-dimensional integer array without nulls");
		m = ArrayGetNItems(ARR_NDIM(i_arr), ARR_DIMS(i_arr));
		iv = (int32 *) ARR_DATA_PTR(i_arr);
	}
	for (int a = 4; a < 13; a++)
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
			facts[f] = float8_elements(PG_GETARG_ARRAYTYPE_P(4 + f), m, NULL, fact_names[f]);
		cost_in = float8_elements(PG_GETARG_ARRAYTYPE_P(11), m, &cost_null_in, "unit_cost");
		{
			ArrayType  *h = PG_GETARG_ARRAYTYPE_P(12);
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
	 * revenue of those weeks are read (lags and windows).
	 */
	if (!PG_ARGISNULL(14) || !PG_ARGISNULL(15))
	{
		int			weeks = start_index - base;
		bytea	   *series[2];
		static const int series_fact[2] = {F_SOLD, F_REVENUE};

		if (PG_ARGISNULL(14) || PG_ARGISNULL(15))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("features_kernel: prior_sold and prior_revenue go together")));
		if (prior > 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("features_kernel: stored weeks given both as entries and as prior series")));
		series[0] = PG_GETARG_BYTEA_PP(14);
		series[1] = PG_GETARG_BYTEA_PP(15);
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

	if (PG_ARGISNULL(13))
	{
		seed = palloc0(sizeof(double) * N_SEED);
		seed_null = palloc(sizeof(bool) * N_SEED);
		memset(seed_null, true, sizeof(bool) * N_SEED);
	}
	else
		seed = float8_elements(PG_GETARG_ARRAYTYPE_P(13), N_SEED, &seed_null, "seed");

	/* the running state at the week before the start */
	ewm_set = !seed_null[SEED_EWM];
	for (int m = 0; m < 4; m++)
		for (int s = 0; s < N_SPANS; s++)
			ewm[m][s] = seed[SEED_EWM + m * N_SPANS + s];
	for (int c = 0; c < 6; c++)
		cum[c] = seed_null[SEED_CUM + c] ? 0.0 : seed[SEED_CUM + c];
	ytd_sold = seed_null[SEED_YTD] ? 0.0 : seed[SEED_YTD];
	ytd_revenue = seed_null[SEED_YTD + 1] ? 0.0 : seed[SEED_YTD + 1];
	first_sale_set = !seed_null[SEED_FIRST_SALE];
	first_sale = first_sale_set ? (int) seed[SEED_FIRST_SALE] : 0;
	last_sale_set = !seed_null[SEED_LAST_SALE];
	last_sale = last_sale_set ? (int) seed[SEED_LAST_SALE] : 0;
	last_cost_set = !seed_null[SEED_LAST_COST];
	last_cost = seed[SEED_LAST_COST];

	for (int p = start_index - base; p < n; p++)
	{
		int			i = base + p;

		CHECK_FOR_INTERRUPTS();
		DateADT		week_start = first_week + 7 * i;
		int			year = date_year(week_start);
		const double *sold = x[F_SOLD];
		int			col = 0;
		double		means[5];	/* sold over mean_windows (the slopes reuse the first four) */

		memset(nulls, false, sizeof(nulls));
		values[col++] = DateADTGetDatum(week_start);
		values[col++] = Int32GetDatum(i);
		for (int f = 0; f < N_FACTS; f++)
			values[col++] = Float8GetDatum(x[f][p]);

		/* lags: null before the first week */
		for (int k = 1; k <= N_LAGS; k++, col++)
		{
			if (i - k < 0)
				nulls[col] = true;
			else
				values[col] = Float8GetDatum(sold[p - k]);
		}

		/*
		 * EWMs as pandas' ewm(span, adjust=False).mean() computes them: e_0 =
		 * x_0, then (b e + a x) / (b + a) with a = 1 / (1 + (span - 1) / 2),
		 * b = 1 - a, skipped when e already equals x.
		 */
		for (int m = 0; m < 4; m++)
		{
			double		xv = x[ewm_facts[m]][p];

			for (int s = 0; s < N_SPANS; s++)
			{
				double		alpha = 1.0 / (1.0 + (spans[s] - 1) / 2.0);
				double		beta = 1.0 - alpha;

				if (!ewm_set)
					ewm[m][s] = xv;
				else if (ewm[m][s] != xv)
					ewm[m][s] = (beta * ewm[m][s] + alpha * xv) / (beta + alpha);
				values[col++] = Float8GetDatum(ewm[m][s]);
			}
		}
		ewm_set = true;

		/* means, then sample standard deviations (two passes), over the window */
		{
			for (int w = 0; w < 5; w++)
			{
				int			len = Min(mean_windows[w], i + 1);
				double		sum = 0.0;

				for (int q = p - len + 1; q <= p; q++)
					sum += sold[q];
				means[w] = sum / len;
				values[col++] = Float8GetDatum(means[w]);
			}
			for (int w = 0; w < 5; w++, col++)
			{
				int			len = Min(mean_windows[w], i + 1);
				double		squares = 0.0;

				if (len < 2)
				{
					nulls[col] = true;
					continue;
				}
				for (int q = p - len + 1; q <= p; q++)
				{
					double		d = sold[q] - means[w];

					squares += d * d;
				}
				values[col] = Float8GetDatum(sqrt(squares / (len - 1)));
			}
		}

		/* maxima, the share of weeks without a sale, revenue's mean */
		{
			int			len13 = Min(13, i + 1);
			int			len52 = Min(52, i + 1);
			double		max13 = sold[p],
						max52 = sold[p];
			int			zeros = 0;
			double		revenue13 = 0.0,
						sold13 = 0.0;

			for (int q = p - len52 + 1; q <= p; q++)
				max52 = Max(max52, sold[q]);
			for (int q = p - len13 + 1; q <= p; q++)
			{
				max13 = Max(max13, sold[q]);
				zeros += sold[q] == 0.0;
				revenue13 += x[F_REVENUE][q];
				sold13 += sold[q];
			}
			values[col++] = Float8GetDatum(max13);
			values[col++] = Float8GetDatum(max52);
			values[col++] = Float8GetDatum((double) zeros / len13);
			values[col++] = Float8GetDatum(revenue13 / len13);

			/* slopes: OLS against the week number, centred, around the window's mean */
			for (int w = 0; w < 4; w++, col++)
			{
				int			len = Min(slope_windows[w], i + 1);
				double		sxy = 0.0;

				Assert(slope_windows[w] == mean_windows[w]);
				if (len < 2)
				{
					nulls[col] = true;
					continue;
				}
				/* week q's centred number is (q - p) + (len - 1) / 2 */
				for (int q = p - len + 1; q <= p; q++)
					sxy += ((q - p) + (len - 1) / 2.0) * (sold[q] - means[w]);
				values[col] = Float8GetDatum(sxy / (len * ((double) len * len - 1) / 12.0));
			}

			/* cumulative and year to date */
			cum[0] += x[F_SOLD][p];
			cum[1] += x[F_RETURNED][p];
			cum[2] += x[F_REVENUE][p];
			cum[3] += x[F_RECEIVED][p];
			cum[4] += x[F_ORDERED][p];
			cum[5] += x[F_INVOICED][p];
			for (int c = 0; c < 6; c++)
				values[col++] = Float8GetDatum(cum[c]);
			/* the seed is already the start week's year's; later weeks reset at a new year */
			if (p > start_index - base && year != prev_year)
			{
				ytd_sold = 0.0;
				ytd_revenue = 0.0;
			}
			prev_year = year;
			ytd_sold += x[F_SOLD][p];
			ytd_revenue += x[F_REVENUE][p];
			values[col++] = Float8GetDatum(ytd_sold);
			values[col++] = Float8GetDatum(ytd_revenue);

			/* derived */
			{
				double		on_hand = cum[3] - cum[0] + cum[1];
				double		ewm_s4 = ewm[0][1];

				values[col++] = Float8GetDatum(on_hand);
				values[col++] = Float8GetDatum(Max(0.0, cum[4] - cum[3]));
				if (sold[p] > 0)
				{
					if (!first_sale_set)
						first_sale = i;
					first_sale_set = true;
					last_sale = i;
					last_sale_set = true;
				}
				if (first_sale_set)
					values[col] = Int32GetDatum(i - first_sale);
				else
					nulls[col] = true;
				col++;
				if (last_sale_set)
					values[col] = Int32GetDatum(i - last_sale);
				else
					nulls[col] = true;
				col++;
				if (ewm_s4 > 0)
					values[col] = Float8GetDatum(on_hand / ewm_s4);
				else
					nulls[col] = true;
				col++;
				/* units sold are >= 0: their sum is 0 only when every week's is */
				if (sold13 != 0.0)
					values[col] = Float8GetDatum(revenue13 / sold13);
				else
					nulls[col] = true;
				col++;
				if (has_cost[p])
				{
					last_cost_set = !cost_null[p];
					last_cost = unit_cost[p];
				}
				if (last_cost_set)
					values[col] = Float8GetDatum(last_cost);
				else
					nulls[col] = true;
				col++;
			}
		}
		Assert(col == N_OUT);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
