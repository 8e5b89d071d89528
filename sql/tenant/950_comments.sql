-- COMMENT ON every table, view and column the UI reads, so `\d+` in psql and
-- any schema browser explain the tenant's interface where it lives;
-- docs/sql-interface.md says the same at more length. COMMENT replaces what
-- was there, so the file runs again at every migration. A relation or column
-- named here that this tenant does not have (yet) is skipped; tests check
-- that every column of these relations has a comment.
DO $comments$
DECLARE
    v_schema text := '@extschema@';
    v_rel    text;
    v_col    text;
    v_kind   "char";
    v_text   text;
BEGIN
    -- every comment of the file, then applied in one place: relations (col
    -- null) and columns; a pattern erp_* / ui_* names every such table
    FOR v_rel, v_col, v_kind, v_text IN
        WITH comments (rel, col, body) AS (
            VALUES
        -- relations (col null)
        ('erp_products', NULL, 'Products as the ERP sent them (owner: the loader). One row per product_id; a tombstone keeps its row with deleted = true.'),
        ('erp_locations', NULL, 'Stores and warehouses as the ERP sent them (owner: the loader).'),
        ('erp_suppliers', NULL, 'Suppliers as the ERP sent them (owner: the loader).'),
        ('erp_purchase_order_lines', NULL, 'Purchase order lines from the ERP (owner: the loader); placed in a week by order_date.'),
        ('erp_receipt_lines', NULL, 'Receipt (receiving order) lines from the ERP (owner: the loader); placed in a week by received_date.'),
        ('erp_sales_lines', NULL, 'Store transaction lines from the ERP (owner: the loader); placed in a week by business_date. A negative qty is a return.'),
        ('erp_invoice_lines', NULL, 'Supplier invoice lines from the ERP (owner: the loader); placed in a week by invoice_date.'),
        ('ui_product_settings', NULL, 'The UI''s overrides per product (owner: the UI). A null field means no override.'),
        ('ui_location_settings', NULL, 'The UI''s overrides per location (owner: the UI). A null field means no override.'),
        ('ui_supplier_settings', NULL, 'The UI''s overrides per supplier (owner: the UI). A null field means no override.'),
        ('ui_assortments', NULL, 'The UI''s assortment per product and location (owner: the UI); a key with no row is assorted.'),
        ('settings', NULL, 'The tenant''s settings, one row (owner: the UI).'),
        ('effective_products', NULL, 'Products with the values in force: the UI''s override where it has one, else the ERP''s, else the default.'),
        ('effective_locations', NULL, 'Locations with the values in force (the UI wins where it speaks).'),
        ('effective_suppliers', NULL, 'Suppliers with the values in force (the UI wins where it speaks, then the ERP, then the tenant''s default).'),
        ('effective_assortments', NULL, 'Assortment in force per product and location (the UI''s, else assorted).'),
        ('master_file', NULL, 'One row per key (product, location) and week from the key''s first week to end_week: weekly facts, lags, moving statistics, cumulative and derived figures (computed by the pipeline), and the key''s effective attributes as they are now.'),
        ('forecasts', NULL, 'The forecast per key and target week, for the horizon_weeks weeks after as_of_week (computed by the pipeline).'),
        ('recommendations', NULL, 'The order recommendation per key (pipeline columns), and the UI''s decision on it (decision .. note, owner: the UI).'),
        ('conflicts', NULL, 'An ERP value that disagrees with a UI override of the same fact; the UI''s value stays in force. Recorded by the loader''s writes.'),
        ('runs', NULL, 'One row per processing run (pg_cron, the worker, pyloader run): what it computed and how it ended. Kept for retention_policy.runs_kept.'),
        ('loads', NULL, 'One row per entity loaded (pyloader load): counts and outcome. Kept for retention_policy.loads_kept.'),
        ('rejects', NULL, 'ERP records a load could not apply, raw, with the reason. Kept for retention_policy.rejects_kept.'),
        ('retention_policy', NULL, 'How long runs, loads, rejects and acknowledged conflicts are kept, one row (owner: the operator); apply_retention() deletes what is older.'),

        -- columns the ERP tables share
        ('erp_*', 'updated_at', 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.'),
        ('erp_*', 'deleted', 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.'),
        ('erp_*', 'load_id', 'The load (loads.load_id) that last wrote the row.'),
        ('erp_products', 'product_id', 'The product''s key.'),
        ('erp_products', 'name', 'Product name.'),
        ('erp_products', 'category', 'Product category.'),
        ('erp_products', 'brand', 'Brand.'),
        ('erp_products', 'supplier_id', 'The product''s supplier (erp_suppliers.supplier_id).'),
        ('erp_products', 'unit_cost', 'Unit cost.'),
        ('erp_products', 'unit_price', 'Unit price.'),
        ('erp_products', 'status', 'active or discontinued.'),
        ('erp_locations', 'location_id', 'The location''s key.'),
        ('erp_locations', 'name', 'Location name.'),
        ('erp_locations', 'kind', 'store or warehouse.'),
        ('erp_locations', 'region', 'Region.'),
        ('erp_locations', 'status', 'open or closed.'),
        ('erp_suppliers', 'supplier_id', 'The supplier''s key.'),
        ('erp_suppliers', 'name', 'Supplier name.'),
        ('erp_suppliers', 'lead_time_days', 'Lead time in days, as the ERP says.'),
        ('erp_suppliers', 'min_order_qty', 'Minimum order quantity, as the ERP says.'),
        ('erp_suppliers', 'order_multiple', 'Orders are a multiple of this quantity, as the ERP says.'),
        ('erp_purchase_order_lines', 'po_id', 'Purchase order id (key, with line_no).'),
        ('erp_purchase_order_lines', 'line_no', 'Line number within the order (key, with po_id).'),
        ('erp_purchase_order_lines', 'supplier_id', 'The supplier ordered from.'),
        ('erp_purchase_order_lines', 'product_id', 'Product ordered.'),
        ('erp_purchase_order_lines', 'location_id', 'Location ordered for.'),
        ('erp_purchase_order_lines', 'order_date', 'Order date: the date that places the line in a week.'),
        ('erp_purchase_order_lines', 'expected_date', 'Expected delivery date.'),
        ('erp_purchase_order_lines', 'qty_ordered', 'Quantity ordered.'),
        ('erp_purchase_order_lines', 'unit_cost', 'Unit cost on the order.'),
        ('erp_purchase_order_lines', 'status', 'open, closed or cancelled; a cancelled line counts for no units_ordered.'),
        ('erp_receipt_lines', 'receipt_id', 'Receipt id (key, with line_no).'),
        ('erp_receipt_lines', 'line_no', 'Line number within the receipt (key, with receipt_id).'),
        ('erp_receipt_lines', 'po_id', 'The purchase order received against, if any.'),
        ('erp_receipt_lines', 'product_id', 'Product received.'),
        ('erp_receipt_lines', 'location_id', 'Location received at.'),
        ('erp_receipt_lines', 'received_date', 'Date received: the date that places the line in a week.'),
        ('erp_receipt_lines', 'qty_received', 'Quantity received.'),
        ('erp_sales_lines', 'txn_id', 'Transaction id (key, with line_no).'),
        ('erp_sales_lines', 'line_no', 'Line number within the transaction (key, with txn_id).'),
        ('erp_sales_lines', 'product_id', 'Product sold.'),
        ('erp_sales_lines', 'location_id', 'Store of the sale.'),
        ('erp_sales_lines', 'business_date', 'Business day: the date that places the line in a week.'),
        ('erp_sales_lines', 'qty', 'Units sold; negative for a return.'),
        ('erp_sales_lines', 'net_amount', 'Net amount; negative for a return.'),
        ('erp_invoice_lines', 'invoice_id', 'Invoice id (key, with line_no).'),
        ('erp_invoice_lines', 'line_no', 'Line number within the invoice (key, with invoice_id).'),
        ('erp_invoice_lines', 'po_id', 'The purchase order invoiced.'),
        ('erp_invoice_lines', 'product_id', 'Product invoiced.'),
        ('erp_invoice_lines', 'location_id', 'Location invoiced for.'),
        ('erp_invoice_lines', 'invoice_date', 'Invoice date: the date that places the line in a week.'),
        ('erp_invoice_lines', 'qty_invoiced', 'Quantity invoiced.'),
        ('erp_invoice_lines', 'line_amount', 'Amount of the line.'),

        -- the UI's tables
        ('ui_*', 'updated_by', 'Who last wrote the row (defaults to the writing role).'),
        ('ui_*', 'updated_at', 'When the row was last written.'),
        ('ui_product_settings', 'product_id', 'The product overridden.'),
        ('ui_product_settings', 'discontinued', 'Override of discontinued (the ERP''s status = discontinued); null: no override.'),
        ('ui_product_settings', 'service_level', 'Override of the service level, 0.5 to 0.999; null: settings.default_service_level.'),
        ('ui_location_settings', 'location_id', 'The location overridden.'),
        ('ui_location_settings', 'enabled', 'Override of whether the location is planned (the ERP''s status = open); null: no override.'),
        ('ui_supplier_settings', 'supplier_id', 'The supplier overridden.'),
        ('ui_supplier_settings', 'lead_time_days', 'Override of the lead time in days; null: the ERP''s, else settings.default_lead_time_days.'),
        ('ui_supplier_settings', 'min_order_qty', 'Override of the minimum order quantity; null: the ERP''s, else 1.'),
        ('ui_supplier_settings', 'order_multiple', 'Override of the order multiple; null: the ERP''s, else 1.'),
        ('ui_supplier_settings', 'review_period_weeks', 'Weeks between two orders to this supplier; null: 1.'),
        ('ui_assortments', 'product_id', 'The product (key, with location_id).'),
        ('ui_assortments', 'location_id', 'The location (key, with product_id).'),
        ('ui_assortments', 'assorted', 'Whether the product is carried at the location; null: assorted.'),
        ('settings', 'singleton', 'Always true: the table has one row.'),
        ('settings', 'as_of_date', 'The day the tenant is computed for; null: today. end_week is the Monday of the week before it.'),
        ('settings', 'default_service_level', 'Service level where no product override exists (0.5 to 0.999, default 0.95).'),
        ('settings', 'default_lead_time_days', 'Lead time where neither the UI nor the ERP gives one (default 14).'),
        ('settings', 'horizon_weeks', 'Forecast weeks per key (1 to 104, default 13).'),
        ('settings', 'updated_by', 'Who last changed the settings.'),
        ('settings', 'updated_at', 'When the settings last changed.'),

        -- effective values
        ('effective_products', 'product_id', 'The product.'),
        ('effective_products', 'name', 'The ERP''s name.'),
        ('effective_products', 'category', 'The ERP''s category.'),
        ('effective_products', 'brand', 'The ERP''s brand.'),
        ('effective_products', 'supplier_id', 'The ERP''s supplier of the product.'),
        ('effective_products', 'unit_cost', 'The ERP''s unit cost.'),
        ('effective_products', 'unit_price', 'The ERP''s unit price.'),
        ('effective_products', 'erp_status', 'The ERP''s status (active or discontinued).'),
        ('effective_products', 'discontinued', 'coalesce(the UI''s discontinued, the ERP''s status = discontinued, false).'),
        ('effective_products', 'service_level', 'coalesce(the UI''s service_level, settings.default_service_level).'),
        ('effective_locations', 'location_id', 'The location.'),
        ('effective_locations', 'name', 'The ERP''s name.'),
        ('effective_locations', 'kind', 'The ERP''s kind (store or warehouse).'),
        ('effective_locations', 'region', 'The ERP''s region.'),
        ('effective_locations', 'erp_status', 'The ERP''s status (open or closed).'),
        ('effective_locations', 'location_enabled', 'coalesce(the UI''s enabled, the ERP''s status = open, true).'),
        ('effective_suppliers', 'supplier_id', 'The supplier.'),
        ('effective_suppliers', 'name', 'The ERP''s name.'),
        ('effective_suppliers', 'lead_time_days', 'coalesce(the UI''s, the ERP''s, settings.default_lead_time_days).'),
        ('effective_suppliers', 'min_order_qty', 'coalesce(the UI''s, the ERP''s, 1).'),
        ('effective_suppliers', 'order_multiple', 'coalesce(the UI''s, the ERP''s, 1).'),
        ('effective_suppliers', 'review_period_weeks', 'coalesce(the UI''s, 1).'),
        ('effective_assortments', 'product_id', 'The product.'),
        ('effective_assortments', 'location_id', 'The location.'),
        ('effective_assortments', 'assorted', 'coalesce(the UI''s assorted, true).'),

        -- the master file: identity, facts, windows, cumulative, derived, attributes
        ('master_file', 'product_id', 'The key''s product.'),
        ('master_file', 'location_id', 'The key''s location.'),
        ('master_file', 'week_start', 'Monday of the week.'),
        ('master_file', 'iso_year', 'ISO-8601 year of week_start.'),
        ('master_file', 'iso_week', 'ISO-8601 week of week_start.'),
        ('master_file', 'month', 'Month (1-12) of week_start.'),
        ('master_file', 'quarter', 'Quarter (1-4) of week_start.'),
        ('master_file', 'units_sold', 'Sum of qty over the week''s sales lines with qty > 0.'),
        ('master_file', 'units_returned', 'Minus the sum of qty over the week''s sales lines with qty < 0 (positive).'),
        ('master_file', 'revenue', 'Sum of net_amount over the week''s sales lines.'),
        ('master_file', 'units_received', 'Sum of qty_received over the week''s receipt lines.'),
        ('master_file', 'units_ordered', 'Sum of qty_ordered over the week''s purchase order lines not cancelled.'),
        ('master_file', 'units_invoiced', 'Sum of qty_invoiced over the week''s invoice lines.'),
        ('master_file', 'invoiced_amount', 'Sum of line_amount over the week''s invoice lines.'),
        ('master_file', 'sold_max_13', 'Maximum of units_sold over the trailing 13 weeks.'),
        ('master_file', 'sold_max_52', 'Maximum of units_sold over the trailing 52 weeks.'),
        ('master_file', 'sold_zero_share_13', 'Share of the trailing 13 weeks whose units_sold is 0.'),
        ('master_file', 'revenue_mean_13', 'Mean of revenue over the trailing 13 weeks.'),
        ('master_file', 'ytd_units_sold', 'Running sum of units_sold over the key''s weeks of the same calendar year.'),
        ('master_file', 'ytd_revenue', 'Running sum of revenue over the key''s weeks of the same calendar year.'),
        ('master_file', 'est_on_hand', 'cum_units_received - cum_units_sold + cum_units_returned.'),
        ('master_file', 'on_order', 'greatest(0, cum_units_ordered - cum_units_received).'),
        ('master_file', 'weeks_since_first_sale', 'Weeks since the first week with units_sold > 0; null before it.'),
        ('master_file', 'weeks_since_last_sale', 'Weeks since the latest week up to this one with units_sold > 0; null before any.'),
        ('master_file', 'weeks_of_cover', 'est_on_hand / ewm_units_sold_s4 when that is > 0, else null.'),
        ('master_file', 'avg_price_13', 'Revenue over units_sold of the trailing 13 weeks; null when no unit was sold.'),
        ('master_file', 'last_invoice_unit_cost', 'line_amount / qty_invoiced of the key''s latest invoice line up to this week with qty_invoiced > 0; null when none.'),
        ('master_file', 'category', 'Effective: the product''s category now.'),
        ('master_file', 'brand', 'Effective: the product''s brand now.'),
        ('master_file', 'supplier_id', 'Effective: the product''s supplier now.'),
        ('master_file', 'unit_price', 'Effective: the ERP''s unit price now.'),
        ('master_file', 'unit_cost', 'Effective: the ERP''s unit cost now.'),
        ('master_file', 'discontinued', 'Effective: discontinued now (effective_products).'),
        ('master_file', 'assorted', 'Effective: assorted now (effective_assortments).'),
        ('master_file', 'location_enabled', 'Effective: the location enabled now (effective_locations).'),
        ('master_file', 'lead_time_days', 'Effective: the supplier''s lead time now (effective_suppliers).'),
        ('master_file', 'min_order_qty', 'Effective: the supplier''s minimum order quantity now.'),
        ('master_file', 'order_multiple', 'Effective: the supplier''s order multiple now.'),
        ('master_file', 'review_period_weeks', 'Effective: the supplier''s review period now.'),
        ('master_file', 'service_level', 'Effective: the product''s service level now.'),

        -- plans
        ('forecasts', 'product_id', 'The key''s product.'),
        ('forecasts', 'location_id', 'The key''s location.'),
        ('forecasts', 'as_of_week', 'The last complete week the forecast was made from (end_week).'),
        ('forecasts', 'target_week', 'The week forecast, 1 to horizon_weeks weeks after as_of_week.'),
        ('forecasts', 'yhat', 'Forecast units_sold of the target week.'),
        ('forecasts', 'method', 'The forecasting method used (SES or Croston-SBA).'),
        ('forecasts', 'demand_class', 'The key''s demand pattern, which picks the method.'),
        ('recommendations', 'product_id', 'The key''s product.'),
        ('recommendations', 'location_id', 'The key''s location.'),
        ('recommendations', 'as_of_week', 'The last complete week the recommendation was computed from.'),
        ('recommendations', 'demand_class', 'The key''s demand pattern.'),
        ('recommendations', 'method', 'The forecasting method used.'),
        ('recommendations', 'forecast_per_week', 'Forecast units per week.'),
        ('recommendations', 'sigma', 'Standard deviation of the weekly forecast error.'),
        ('recommendations', 'lead_time_weeks', 'Effective lead time, in weeks.'),
        ('recommendations', 'review_period_weeks', 'Effective review period, in weeks.'),
        ('recommendations', 'service_level', 'Effective service level.'),
        ('recommendations', 'z', 'Standard normal quantile of the service level.'),
        ('recommendations', 'safety_stock', 'Safety stock: z * sigma * sqrt(lead time + review period).'),
        ('recommendations', 'order_up_to', 'Order-up-to level: forecast over lead time and review period plus safety stock.'),
        ('recommendations', 'inventory_position', 'Estimated on hand plus on order, as of as_of_week.'),
        ('recommendations', 'raw_qty', 'order_up_to - inventory_position, before minimums and multiples.'),
        ('recommendations', 'recommended_qty', 'Quantity to order: raw_qty rounded up to the order multiple and minimum, 0 when not needed or not allowed.'),
        ('recommendations', 'reason', 'Why the quantity is what it is (for example location_disabled, discontinued).'),
        ('recommendations', 'qty_changed_at', 'When recommended_qty last changed.'),
        ('recommendations', 'computed_at', 'When the pipeline last computed the row.'),
        ('recommendations', 'decision', 'The UI''s decision on the recommendation (owner: the UI).'),
        ('recommendations', 'approved_qty', 'The quantity the UI approved (owner: the UI).'),
        ('recommendations', 'decided_by', 'Who decided (owner: the UI).'),
        ('recommendations', 'decided_at', 'When it was decided (owner: the UI).'),
        ('recommendations', 'note', 'The UI''s note (owner: the UI).'),

        -- conflicts and bookkeeping
        ('conflicts', 'conflict_id', 'The conflict''s id.'),
        ('conflicts', 'entity', 'product, location or supplier.'),
        ('conflicts', 'entity_key', 'The id of the product, location or supplier.'),
        ('conflicts', 'field', 'The fact the two disagree on (for example status, lead_time_days).'),
        ('conflicts', 'erp_value', 'The ERP''s value, as the ERP wrote it.'),
        ('conflicts', 'ui_value', 'The UI''s value, as the UI wrote it; it stays in force.'),
        ('conflicts', 'erp_updated_at', 'updated_at of the ERP record that disagreed.'),
        ('conflicts', 'detected_at', 'When the conflict was recorded.'),
        ('conflicts', 'acknowledged_by', 'Who acknowledged the conflict (owner: the UI); null: not yet.'),
        ('conflicts', 'acknowledged_at', 'When the conflict was acknowledged (owner: the UI); retention counts from here.'),
        ('runs', 'run_id', 'The run''s id.'),
        ('runs', 'trigger', 'What started it: cron, worker <pid>, pyloader run.'),
        ('runs', 'started_at', 'When it started.'),
        ('runs', 'finished_at', 'When it ended; null while running.'),
        ('runs', 'status', 'running, succeeded or failed (or interrupted).'),
        ('runs', 'keys_done', 'Keys processed.'),
        ('runs', 'keys_failed', 'Keys set aside after an error (_private_failed_keys).'),
        ('runs', 'rows_written', 'feature_rows + plan_rows.'),
        ('runs', 'feature_rows', 'Feature rows written.'),
        ('runs', 'plan_rows', 'Forecast and recommendation rows written.'),
        ('runs', 'message', 'The error, when it failed.'),
        ('runs', 'feature_seconds', 'Seconds spent computing features.'),
        ('runs', 'plan_seconds', 'Seconds spent computing plans.'),
        ('loads', 'load_id', 'The load''s id.'),
        ('loads', 'source', 'Where the records came from: the API''s URL or a file.'),
        ('loads', 'entity', 'The entity loaded (products, sales_lines, ...).'),
        ('loads', 'started_at', 'When it started.'),
        ('loads', 'finished_at', 'When it ended; null while running.'),
        ('loads', 'status', 'running, succeeded or failed (or interrupted).'),
        ('loads', 'read_count', 'Records read.'),
        ('loads', 'applied_count', 'Records that changed a row.'),
        ('loads', 'unchanged_count', 'Records equal to the stored row (a replay).'),
        ('loads', 'stale_count', 'Records older than the stored row, skipped.'),
        ('loads', 'rejected_count', 'Records rejected (see rejects).'),
        ('loads', 'message', 'Why it failed, or what it reported.'),
        ('loads', 'retries', 'Requests the load retried (429, 5xx, broken connections).'),
        ('rejects', 'reject_id', 'The reject''s id.'),
        ('rejects', 'load_id', 'The load that rejected it.'),
        ('rejects', 'entity', 'The entity of the record.'),
        ('rejects', 'raw', 'The record as received.'),
        ('rejects', 'reason', 'Why it was rejected.'),
        ('rejects', 'rejected_at', 'When.'),
        ('retention_policy', 'singleton', 'Always true: the table has one row.'),
        ('retention_policy', 'runs_kept', 'Finished runs older than this (by finished_at) are deleted (default 30 days).'),
        ('retention_policy', 'loads_kept', 'Finished loads older than this (by finished_at) are deleted with their rejects (default 90 days).'),
        ('retention_policy', 'rejects_kept', 'Rejects older than this (by rejected_at) are deleted (default 30 days).'),
        ('retention_policy', 'conflicts_kept', 'Acknowledged conflicts older than this (by acknowledged_at) are deleted (default 90 days).'),
        ('retention_policy', 'updated_at', 'When the policy was last changed.')
            UNION ALL  -- the master file's patterned columns (features.md's notation)
            SELECT 'master_file', 'sold_lag_' || k,
                   format('units_sold of the week %s week(s) before; null before the key''s first week.', k)
            FROM generate_series(1, 14) k
            UNION ALL
            SELECT 'master_file', format('ewm_%s_s%s', m, w),
                   format('Exponentially weighted mean of %s, span %s (a = 2/(span+1), from the key''s first week).', m, w)
            FROM unnest(ARRAY['units_sold', 'revenue', 'units_received', 'units_returned']) m,
                 unnest(ARRAY[2, 4, 8, 13]) w
            UNION ALL
            SELECT 'master_file', 'sold_mean_' || w, format('Mean of units_sold over the trailing %s weeks.', w)
            FROM unnest(ARRAY[4, 8, 13, 26, 52]) w
            UNION ALL
            SELECT 'master_file', 'sold_std_' || w,
                   format('Sample standard deviation of units_sold over the trailing %s weeks; null under 2 weeks.', w)
            FROM unnest(ARRAY[4, 8, 13, 26, 52]) w
            UNION ALL
            SELECT 'master_file', 'sold_slope_' || w,
                   format('Least-squares slope of units_sold per week over the trailing %s weeks; null under 2 weeks.', w)
            FROM unnest(ARRAY[4, 8, 13, 26]) w
            UNION ALL
            SELECT 'master_file', 'cum_' || m, format('Running sum of %s from the key''s first week through this one.', m)
            FROM unnest(ARRAY['units_sold', 'units_returned', 'revenue', 'units_received', 'units_ordered',
                              'units_invoiced']) m
        )
        SELECT c.relname, m.col, c.relkind, m.body
        FROM comments m
        JOIN pg_class c ON c.relnamespace = v_schema::regnamespace AND c.relkind IN ('r', 'v')
                       AND (c.relname = m.rel
                            OR (m.rel LIKE '%*' AND c.relname LIKE replace(rtrim(m.rel, '*'), '_', '\_') || '%'))
        WHERE m.col IS NULL
           OR EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = m.col AND a.attnum > 0 AND NOT a.attisdropped)
    LOOP
        IF v_col IS NULL THEN
            EXECUTE format('COMMENT ON %s %I.%I IS %L', CASE v_kind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END,
                           v_schema, v_rel, v_text);
        ELSE
            EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', v_schema, v_rel, v_col, v_text);
        END IF;
    END LOOP;
END
$comments$;
