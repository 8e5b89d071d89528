-- The master file's features, declared once (features.md): one line per
-- column of the master_file view after its key and calendar, in its order.
-- From these lines follow the features table's columns (a test names the
-- migration a new line needs), what the C kernel computes (refresh_features
-- passes it each stored line's kind, input and parameter), the view's
-- columns, their comments and the pandas reference of the tests: `pyloader
-- migrate` reads this file (pyloader/features.py) and writes the lists of
-- sql/tenant/ in place of their placeholders.
--
-- Kinds, with the input series (one of the weekly facts) and the parameter:
--   fact              the week's sum (features.md, "Weekly facts")
--   lag               the input of the week `param` weeks before; null before the first week
--   ewm               exponentially weighted mean, span `param`
--   mean, std, max, zero_share, slope
--                     over the trailing window of `param` weeks (std, slope:
--                     null under 2 weeks); windows and lags read units_sold
--                     or revenue, the series the stored weeks carry, and
--                     reach at most features_lookback_weeks() back
--   cumulative        running sum from the key's first week
--   year_to_date      running sum over the weeks of the same calendar year
--   weeks_since_first, weeks_since_last
--                     weeks since the first / the latest week with input > 0 (integer)
--   last_unit_cost    line_amount / qty_invoiced of the latest invoice line with a quantity
-- A kind that carries a state from week to week (ewm, cumulative,
-- year_to_date, weeks_since_*, last_unit_cost) is seeded from its own
-- column of the stored row before. These are stored, one column each.
--
-- Derived from other features of the same week, computed when the row is
-- read (the view, the plans) and not stored; the features they name must be
-- declared:
--   on_hand           cum_units_received - cum_units_sold + cum_units_returned
--   on_order          greatest(0, cum_units_ordered - cum_units_received)
--   cover             on_hand / the ewm of the input with span `param`, when that is > 0
--   avg_price         sum of revenue over sum of units_sold, trailing `param` weeks:
--                     the ratio of their means of that window, when units_sold's is not 0
--
-- description: the column's comment; null takes the kind's wording.
-- position: the line's place in the list (a VALUES list of one scan is read
-- in its order); the features table's columns may be in another (a column
-- is added at its end), so every statement names them.
-- One entry per line, as written here (pyloader/features.py reads them;
-- tests/test_feature_declaration.py holds its reading equal to this view's).
CREATE OR REPLACE VIEW masterfile.declared_features AS
SELECT row_number() OVER ()::integer AS position, d.name, d.kind, d.input, d.param, d.description
FROM (VALUES
    -- name, kind, input, param, description
    ('units_sold', 'fact', 'units_sold', NULL::integer, 'Sum of qty over the week''s sales lines with qty > 0.'),
    ('units_returned', 'fact', 'units_returned', NULL, 'Minus the sum of qty over the week''s sales lines with qty < 0 (positive).'),
    ('revenue', 'fact', 'revenue', NULL, 'Sum of net_amount over the week''s sales lines.'),
    ('units_received', 'fact', 'units_received', NULL, 'Sum of qty_received over the week''s receipt lines.'),
    ('units_ordered', 'fact', 'units_ordered', NULL, 'Sum of qty_ordered over the week''s purchase order lines not cancelled.'),
    ('units_invoiced', 'fact', 'units_invoiced', NULL, 'Sum of qty_invoiced over the week''s invoice lines.'),
    ('invoiced_amount', 'fact', 'invoiced_amount', NULL, 'Sum of line_amount over the week''s invoice lines.'),
    ('sold_lag_1', 'lag', 'units_sold', 1, NULL),
    ('sold_lag_2', 'lag', 'units_sold', 2, NULL),
    ('sold_lag_3', 'lag', 'units_sold', 3, NULL),
    ('sold_lag_4', 'lag', 'units_sold', 4, NULL),
    ('sold_lag_5', 'lag', 'units_sold', 5, NULL),
    ('sold_lag_6', 'lag', 'units_sold', 6, NULL),
    ('sold_lag_7', 'lag', 'units_sold', 7, NULL),
    ('sold_lag_8', 'lag', 'units_sold', 8, NULL),
    ('sold_lag_9', 'lag', 'units_sold', 9, NULL),
    ('sold_lag_10', 'lag', 'units_sold', 10, NULL),
    ('sold_lag_11', 'lag', 'units_sold', 11, NULL),
    ('sold_lag_12', 'lag', 'units_sold', 12, NULL),
    ('sold_lag_13', 'lag', 'units_sold', 13, NULL),
    ('sold_lag_14', 'lag', 'units_sold', 14, NULL),
    ('ewm_units_sold_s2', 'ewm', 'units_sold', 2, NULL),
    ('ewm_units_sold_s4', 'ewm', 'units_sold', 4, NULL),
    ('ewm_units_sold_s8', 'ewm', 'units_sold', 8, NULL),
    ('ewm_units_sold_s13', 'ewm', 'units_sold', 13, NULL),
    ('ewm_revenue_s2', 'ewm', 'revenue', 2, NULL),
    ('ewm_revenue_s4', 'ewm', 'revenue', 4, NULL),
    ('ewm_revenue_s8', 'ewm', 'revenue', 8, NULL),
    ('ewm_revenue_s13', 'ewm', 'revenue', 13, NULL),
    ('ewm_units_received_s2', 'ewm', 'units_received', 2, NULL),
    ('ewm_units_received_s4', 'ewm', 'units_received', 4, NULL),
    ('ewm_units_received_s8', 'ewm', 'units_received', 8, NULL),
    ('ewm_units_received_s13', 'ewm', 'units_received', 13, NULL),
    ('ewm_units_returned_s2', 'ewm', 'units_returned', 2, NULL),
    ('ewm_units_returned_s4', 'ewm', 'units_returned', 4, NULL),
    ('ewm_units_returned_s8', 'ewm', 'units_returned', 8, NULL),
    ('ewm_units_returned_s13', 'ewm', 'units_returned', 13, NULL),
    ('sold_mean_4', 'mean', 'units_sold', 4, NULL),
    ('sold_mean_8', 'mean', 'units_sold', 8, NULL),
    ('sold_mean_13', 'mean', 'units_sold', 13, NULL),
    ('sold_mean_26', 'mean', 'units_sold', 26, NULL),
    ('sold_mean_52', 'mean', 'units_sold', 52, NULL),
    ('sold_std_4', 'std', 'units_sold', 4, NULL),
    ('sold_std_8', 'std', 'units_sold', 8, NULL),
    ('sold_std_13', 'std', 'units_sold', 13, NULL),
    ('sold_std_26', 'std', 'units_sold', 26, NULL),
    ('sold_std_52', 'std', 'units_sold', 52, NULL),
    ('sold_max_13', 'max', 'units_sold', 13, NULL),
    ('sold_max_52', 'max', 'units_sold', 52, NULL),
    ('sold_zero_share_13', 'zero_share', 'units_sold', 13, NULL),
    ('revenue_mean_13', 'mean', 'revenue', 13, NULL),
    ('sold_slope_4', 'slope', 'units_sold', 4, NULL),
    ('sold_slope_8', 'slope', 'units_sold', 8, NULL),
    ('sold_slope_13', 'slope', 'units_sold', 13, NULL),
    ('sold_slope_26', 'slope', 'units_sold', 26, NULL),
    ('cum_units_sold', 'cumulative', 'units_sold', NULL, NULL),
    ('cum_units_returned', 'cumulative', 'units_returned', NULL, NULL),
    ('cum_revenue', 'cumulative', 'revenue', NULL, NULL),
    ('cum_units_received', 'cumulative', 'units_received', NULL, NULL),
    ('cum_units_ordered', 'cumulative', 'units_ordered', NULL, NULL),
    ('cum_units_invoiced', 'cumulative', 'units_invoiced', NULL, NULL),
    ('ytd_units_sold', 'year_to_date', 'units_sold', NULL, NULL),
    ('ytd_revenue', 'year_to_date', 'revenue', NULL, NULL),
    ('est_on_hand', 'on_hand', NULL, NULL, 'cum_units_received - cum_units_sold + cum_units_returned.'),
    ('on_order', 'on_order', NULL, NULL, 'greatest(0, cum_units_ordered - cum_units_received).'),
    ('weeks_since_first_sale', 'weeks_since_first', 'units_sold', NULL, 'Weeks since the first week with units_sold > 0; null before it.'),
    ('weeks_since_last_sale', 'weeks_since_last', 'units_sold', NULL, 'Weeks since the latest week up to this one with units_sold > 0; null before any.'),
    ('weeks_of_cover', 'cover', 'units_sold', 4, 'est_on_hand / ewm_units_sold_s4 when that is > 0, else null.'),
    ('avg_price_13', 'avg_price', NULL, 13, 'Revenue over units_sold of the trailing 13 weeks; null when no unit was sold.'),
    ('last_invoice_unit_cost', 'last_unit_cost', NULL, NULL, 'line_amount / qty_invoiced of the key''s latest invoice line up to this week with qty_invoiced > 0; null when none.')
) AS d(name, kind, input, param, description);
