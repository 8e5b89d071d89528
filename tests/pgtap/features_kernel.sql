-- masterfile.features_kernel (ext/masterfile_kernel.c) on its own: values of
-- features.md on a short series worked out by hand, a computation seeded from
-- a stored row equal to one from the first week, and the inputs it refuses.
-- The kernel computes what it is given to (kind, input and parameter of each
-- feature, as sql/control/015_features_declared.sql declares them); here a
-- declaration of the features checked. The pandas reference checks every
-- declared column on real data (test_features.py).
BEGIN;
SET search_path = t_pgtap, public, pg_catalog;
SELECT plan(24);

\set decl 'ARRAY[''fact'', ''fact'', ''fact'', ''lag'', ''ewm'', ''mean'', ''std'', ''std'', ''slope'', ''cumulative'', ''cumulative'', ''cumulative'', ''year_to_date'', ''last_unit_cost'', ''weeks_since_last''], ARRAY[''units_sold'', ''units_returned'', ''units_received'', ''units_sold'', ''units_sold'', ''units_sold'', ''units_sold'', ''units_sold'', ''units_sold'', ''units_sold'', ''units_returned'', ''units_received'', ''units_sold'', NULL, ''units_sold''], ARRAY[NULL, NULL, NULL, 1, 2, 4, 4, 13, 4, NULL, NULL, NULL, NULL, NULL, NULL]::integer[]'
\set cols 'week_start date, week_index integer, units_sold float8, units_returned float8, units_received float8, sold_lag_1 float8, ewm_units_sold_s2 float8, sold_mean_4 float8, sold_std_4 float8, sold_std_13 float8, sold_slope_4 float8, cum_units_sold float8, cum_units_returned float8, cum_units_received float8, ytd_units_sold float8, last_invoice_unit_cost float8, weeks_since_last_sale integer'

-- weeks 0..3 from 2024-12-23: sold 2, 0, 4, 6 (week 2's from two entries),
-- revenue 10, 0, 8, 12, received 5 in week 0; an invoice line costs 1.5 in week 1
CREATE TEMP TABLE k AS
SELECT * FROM masterfile.features_kernel(:decl,
    '2024-12-23', 0, 3, ARRAY[0, 1, 2, 2, 3],
    ARRAY[2, 0, 3, 1, 6]::float8[], ARRAY[0, 1, 0, 0, 0]::float8[], ARRAY[10, 0, 8, 0, 12]::float8[],
    ARRAY[5, 0, 0, 0, 0]::float8[], ARRAY[0, 0, 0, 0, 0]::float8[], ARRAY[0, 2, 0, 0, 0]::float8[],
    ARRAY[0, 3, 0, 0, 0]::float8[], ARRAY[NULL, 1.5, NULL, NULL, NULL]::float8[],
    ARRAY[false, true, false, false, false], NULL) AS k(:cols);

SELECT is((SELECT count(*) FROM k), 4::bigint, 'one row per week computed');
SELECT is((SELECT array_agg(week_start ORDER BY week_index) FROM k),
          ARRAY['2024-12-23', '2024-12-30', '2025-01-06', '2025-01-13']::date[], 'week_start from first_week');
SELECT is((SELECT array_agg(units_sold ORDER BY week_index) FROM k), ARRAY[2, 0, 4, 6]::float8[],
          'a week''s entries are added up');
SELECT is((SELECT array_agg(sold_lag_1 ORDER BY week_index) FROM k), ARRAY[NULL, 2, 0, 4]::float8[],
          'lag 1 is null in the first week');
SELECT is((SELECT array_agg(round(ewm_units_sold_s2::numeric, 12) ORDER BY week_index) FROM k),
          ARRAY[2, round(2.0 / 3, 12), round(2.0 / 9 + 8.0 / 3, 12), round((2.0 / 9 + 8.0 / 3) / 3 + 4, 12)],
          'ewm span 2: e_0 = x_0, e_i = 2/3 x_i + 1/3 e_(i-1)');
SELECT is((SELECT sold_mean_4 FROM k WHERE week_index = 3), 3.0::float8, 'mean over the 4 weeks');
SELECT is((SELECT round(sold_std_4::numeric, 12) FROM k WHERE week_index = 3),
          round(sqrt(20.0 / 3), 12), 'sample std over the 4 weeks');
SELECT is((SELECT array_agg(sold_std_13 ORDER BY week_index) FROM k)[1], NULL::float8,
          'std is null under 2 weeks');
SELECT is((SELECT sold_slope_4 FROM k WHERE week_index = 3), 1.6::float8, 'OLS slope of 2, 0, 4, 6');
SELECT is((SELECT ytd_units_sold FROM k WHERE week_index = 2), 4::float8, 'year to date restarts in 2025');
SELECT is((SELECT array_agg(cum_units_sold ORDER BY week_index) FROM k), ARRAY[2, 2, 6, 12]::float8[],
          'the running sum from the first week');
SELECT is((SELECT array_agg(last_invoice_unit_cost ORDER BY week_index) FROM k), ARRAY[NULL, 1.5, 1.5, 1.5]::float8[],
          'the latest cost is carried');
SELECT is((SELECT array_agg(weeks_since_last_sale ORDER BY week_index) FROM k), ARRAY[0, 1, 0, 0],
          'weeks since the last sale');

-- the stored row of week 1, one element per feature, as refresh_features passes it
CREATE TEMP TABLE seed_of_week_1 AS
SELECT ARRAY[units_sold, units_returned, units_received, sold_lag_1, ewm_units_sold_s2, sold_mean_4, sold_std_4,
             sold_std_13, sold_slope_4, cum_units_sold, cum_units_returned, cum_units_received, ytd_units_sold,
             last_invoice_unit_cost, weeks_since_last_sale]::float8[] AS seed
FROM k WHERE week_index = 1;

-- weeks 2..3 seeded from the row of week 1 equal the rows computed from week 0
SELECT is(
    (SELECT array_agg(x ORDER BY x.week_index)::text FROM masterfile.features_kernel(:decl,
        '2024-12-23', 2, 3, ARRAY[0, 1, 2, 3],
        ARRAY[2, 0, 4, 6]::float8[], ARRAY[0, 1, 0, 0]::float8[], ARRAY[10, 0, 8, 12]::float8[],
        ARRAY[5, 0, 0, 0]::float8[], ARRAY[0, 0, 0, 0]::float8[], ARRAY[0, 2, 0, 0]::float8[],
        ARRAY[0, 3, 0, 0]::float8[], ARRAY[NULL, NULL, NULL, NULL]::float8[], ARRAY[false, false, false, false],
        (SELECT seed FROM seed_of_week_1)) AS x(:cols)),
    (SELECT array_agg(k ORDER BY k.week_index)::text FROM k WHERE week_index >= 2),
    'seeded from the stored row before, the same bits as from the first week');

-- the same stored weeks as series (float8send() values, as _private_feature_keys'
-- tails hold them) instead of entries: the same bits
SELECT is(
    (SELECT array_agg(x ORDER BY x.week_index)::text FROM masterfile.features_kernel(:decl,
        '2024-12-23', 2, 3, ARRAY[2, 3],
        ARRAY[4, 6]::float8[], ARRAY[0, 0]::float8[], ARRAY[8, 12]::float8[],
        ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[],
        ARRAY[0, 0]::float8[], ARRAY[NULL, NULL]::float8[], ARRAY[false, false],
        (SELECT seed FROM seed_of_week_1),
        float8send(2) || float8send(0), float8send(10) || float8send(0)) AS x(:cols)),
    (SELECT array_agg(k ORDER BY k.week_index)::text FROM k WHERE week_index >= 2),
    'stored weeks given as series: the same bits as from the first week');

-- refusals
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[], '2024-12-23', 2, 2, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, float8send(1), float8send(1) || float8send(2)) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: prior_sold holds 8 bytes, need 2 stored weeks before week 2',
    'a series missing a stored week is refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[], '2024-12-23', 1, 1, ARRAY[0],
    ARRAY[1]::float8[], ARRAY[0]::float8[], ARRAY[0]::float8[], ARRAY[0]::float8[],
    ARRAY[0]::float8[], ARRAY[0]::float8[], ARRAY[0]::float8[], ARRAY[NULL]::float8[],
    ARRAY[false], NULL, float8send(1), float8send(1)) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: stored weeks given both as entries and as prior series',
    'stored weeks given twice are refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[], '2024-12-23', 2, 3, ARRAY[1, 2],
    ARRAY[1, 1]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[],
    ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[NULL, NULL]::float8[],
    ARRAY[false, false], NULL) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: 1 stored weeks before week 2, need 2', 'a missing stored week is refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[], '2024-12-23', 0, 1, ARRAY[0, 5],
    ARRAY[1, 1]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[],
    ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[NULL, NULL]::float8[],
    ARRAY[false, false], NULL) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: week 5 outside weeks 0..1', 'a week outside the range is refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[], '2024-12-23', 0, 1, ARRAY[0, 1],
    ARRAY[1]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[],
    ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[0, 0]::float8[], ARRAY[NULL, NULL]::float8[],
    ARRAY[false, false], NULL) AS k(w date, i integer, u float8)$$,
    '2202E', 'features_kernel: sold has 1 elements, expected 2', 'arrays of another length are refused');

-- what the kernel refuses of a declaration
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['median'], ARRAY['units_sold'], ARRAY[4],
    '2024-12-23', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: feature 1: unknown kind median', 'an unknown kind is refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['mean'], ARRAY['units_received'], ARRAY[4],
    '2024-12-23', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: feature 1 (mean): windows and lags read units_sold or revenue only',
    'a window over a series the stored weeks do not carry is refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['mean'], ARRAY['units_sold'], ARRAY[53],
    '2024-12-23', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS k(w date, i integer, u float8)$$,
    '22023', 'features_kernel: feature 1 (mean 53) reaches beyond the 51 stored weeks read',
    'a window wider than the stored weeks read is refused');
SELECT throws_ok($$SELECT * FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[],
    '2024-12-23', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS k(w date, i integer, u integer)$$,
    '42804', 'features_kernel: result column 3 (u) must be double precision',
    'result columns of another type than the kind''s are refused');

SELECT * FROM finish();
ROLLBACK;
