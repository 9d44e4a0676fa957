-- Bulk clone of the seed client's posted invoices (bench/generate.py).
-- One statement per "-- @step <name>" block, run in one transaction with
-- psycopg parameters: %(seed)s, %(small)s, %(clients)s (int[]),
-- %(per_client)s, %(small_count)s, %(today)s, %(terms)s (jsonb {days: id}).
-- Literal percent signs are written %% (psycopg), so mod() is used instead.
--
-- Rows written as the ORM writes them when it creates, posts and pays an
-- out invoice (compare with the seed rows made through the ORM):
--   account_invoice, account_invoice_line, "account_invoice_line-account_tax",
--   account_invoice_tax, account_move + account_move_line (the posting move:
--   one line per invoice line, one per non-zero tax, the receivable line with
--   the maturity date), for paid / partly paid invoices the payment move
--   (receivable and bank lines), "account_invoice-account_move_line" and,
--   when fully paid, account_move_reconciliation; portal_document and its
--   portal_notification (new_document).
-- Simplifications: every line of a seed invoice has one tax; a clone's
-- unit prices are the seed's times a factor, rounded to whole units, so
-- that VAT stays exact; EUR amounts are converted at the rate of the
-- invoice date and paid at the same rate (no exchange difference move);
-- clones share their seed's stored PDF (filestore id).

-- @step seed invoices
CREATE TEMP TABLE seed_inv AS
SELECT row_number() OVER (ORDER BY i.id) AS idx, i.*
FROM account_invoice i
WHERE i.party = %(seed)s AND i.type = 'out' AND i.state IN ('posted', 'paid')

-- @step plan: one row per cloned invoice
CREATE TEMP TABLE plan0 AS
WITH clients AS (
    SELECT p AS party, %(per_client)s::int AS cnt
    FROM unnest(%(clients)s::int[]) AS p
    UNION ALL
    SELECT %(small)s::int, %(small_count)s::int),
base AS (
    SELECT c.party, c.cnt, k,
        (%(today)s::date - (k * 730 / c.cnt) - mod(c.party, 3))::date AS date,
        (ARRAY[7, 14, 30])[1 + mod(k + c.party, 3)] AS term_days,
        0.5 + mod(c.party * 7919 + k * 104729, 251) / 100.0 AS factor,
        mod(c.party * 31 + k * 17, 100) AS roll,
        1 + mod(k * 7 + c.party, (SELECT count(*) FROM seed_inv)::int) AS idx
    FROM clients c, generate_series(0, c.cnt - 1) AS k)
SELECT b.*, (b.date + b.term_days) AS due_date,
    CASE
        WHEN b.date + b.term_days >= %(today)s::date
            THEN CASE WHEN b.roll < 25 THEN 'full' ELSE 'none' END
        WHEN b.roll < 80 THEN 'full'
        WHEN b.roll < 88 THEN 'part'
        ELSE 'none' END AS settle,
    LEAST(b.date + 3 + mod(b.roll, 20), %(today)s::date) AS pay_date
FROM base b

-- @step plan: ids, numbers, periods
CREATE TEMP TABLE plan AS
WITH p AS (
    SELECT p0.*,
        row_number() OVER (ORDER BY p0.date, p0.party, p0.k) AS n,
        s.id AS seed_id, s.currency, s.company, s.account, s.journal,
        s.tax_identifier, s.invoice_report_cache_id,
        s.invoice_report_format, s.sequence_type_cache,
        fy.id AS fiscalyear, fy.move_sequence,
        fis.out_invoice_sequence AS inv_sequence,
        per.id AS period,
        pay_fy.move_sequence AS pay_move_sequence, pay_per.id AS pay_period,
        co.currency AS company_currency
    FROM plan0 p0
    JOIN seed_inv s ON s.idx = p0.idx
    JOIN company_company co ON co.id = s.company
    JOIN account_fiscalyear fy ON fy.company = s.company
        AND p0.date BETWEEN fy.start_date AND fy.end_date
    JOIN account_fiscalyear_invoice_sequence fis ON fis.fiscalyear = fy.id
        AND fis.period IS NULL
    JOIN account_period per ON per.fiscalyear = fy.id
        AND per.type = 'standard'
        AND p0.date BETWEEN per.start_date AND per.end_date
    JOIN account_fiscalyear pay_fy ON pay_fy.company = s.company
        AND p0.pay_date BETWEEN pay_fy.start_date AND pay_fy.end_date
    JOIN account_period pay_per ON pay_per.fiscalyear = pay_fy.id
        AND pay_per.type = 'standard'
        AND p0.pay_date BETWEEN pay_per.start_date AND pay_per.end_date),
numbered AS (
    SELECT p.*,
        seq.number_next_internal - 1 + row_number() OVER (
            PARTITION BY p.inv_sequence ORDER BY p.date, p.party, p.k)
            AS inv_number,
        seq.prefix AS inv_prefix, seq.padding AS inv_padding,
        CASE WHEN p.settle <> 'none' THEN
            count(*) FILTER (WHERE p.settle <> 'none') OVER (ORDER BY p.n)
        END AS pay_rank,
        CASE WHEN p.settle = 'full' THEN
            count(*) FILTER (WHERE p.settle = 'full') OVER (ORDER BY p.n)
        END AS full_rank
    FROM p
    JOIN ir_sequence_strict seq ON seq.id = p.inv_sequence)
SELECT n.*,
    n.inv_prefix || lpad(n.inv_number::text,
        greatest(n.inv_padding, length(n.inv_number::text)), '0') AS number,
    (SELECT coalesce(max(id), 0) FROM account_invoice) + n.n AS invoice_id,
    (SELECT coalesce(max(id), 0) FROM portal_document) + n.n AS document_id,
    (SELECT coalesce(max(id), 0) FROM account_move) + n.n AS move_id,
    (SELECT coalesce(max(id), 0) FROM account_move)
        + (SELECT count(*) FROM plan0) + n.pay_rank AS pay_move_id,
    (SELECT coalesce(max(id), 0) FROM account_move_reconciliation)
        + n.full_rank AS reconciliation_id,
    (SELECT max(a.id) FROM party_address a
        WHERE a.party = n.party AND a.active) AS address_id,
    (SELECT min(t.id) FROM party_identifier t
        WHERE t.party = n.party AND t.type = 'pl_vat') AS party_tax_identifier,
    ((%(terms)s::jsonb) ->> n.term_days::text)::int AS payment_term,
    -- PLN per unit of the invoice currency on the invoice date
    CASE WHEN n.currency = n.company_currency THEN 1 ELSE
        (SELECT 1 / r.rate FROM currency_currency_rate r
            WHERE r.currency = n.currency AND r.date <= n.date
            ORDER BY r.date DESC LIMIT 1) END AS company_rate,
    n.date + time '08:00' + make_interval(secs => mod(n.n, 36000)) AS stamp,
    n.pay_date + time '10:00' + make_interval(secs => mod(n.n, 28000))
        AS pay_stamp
FROM numbered n

-- @step plan: index
CREATE UNIQUE INDEX ON plan (n)

-- @step lines map
CREATE TEMP TABLE new_line AS
SELECT p.n,
    (SELECT coalesce(max(id), 0) FROM account_invoice_line)
        + row_number() OVER (ORDER BY p.n, l.id) AS id,
    l.id AS seed_line, l.account, l.description, l.quantity, l.unit,
    l.type, l.taxes_deductible_rate, l.sequence, lt.tax,
    greatest(1, round(l.unit_price * p.factor)) AS unit_price,
    round(l.quantity::numeric * greatest(1, round(l.unit_price * p.factor)),
        2) AS amount
FROM plan p
JOIN account_invoice_line l ON l.invoice = p.seed_id
JOIN "account_invoice_line-account_tax" lt ON lt.line = l.id

-- @step invoice taxes map
CREATE TEMP TABLE new_tax AS
SELECT (SELECT coalesce(max(id), 0) FROM account_invoice_tax)
        + row_number() OVER (ORDER BY t.n, t.seed_tax) AS id,
    t.*
FROM (
    SELECT p.n, it.id AS seed_tax, it.account, it.description, it.manual,
        it.sequence, it.legal_notice, it.tax,
        sum(l.amount) AS base,
        round(sum(l.amount) * tx.rate, 2) AS amount
    FROM plan p
    JOIN account_invoice_tax it ON it.invoice = p.seed_id
    JOIN account_tax tx ON tx.id = it.tax
    JOIN new_line l ON l.n = p.n AND l.tax = it.tax
    GROUP BY p.n, it.id, tx.rate) AS t

-- @step amounts
CREATE TEMP TABLE amounts AS
SELECT p.n, l.untaxed, coalesce(t.tax, 0) AS tax,
    l.untaxed + coalesce(t.tax, 0) AS total,
    CASE p.settle
        WHEN 'full' THEN l.untaxed + coalesce(t.tax, 0)
        WHEN 'part' THEN round((l.untaxed + coalesce(t.tax, 0)) * 0.4, 2)
        ELSE 0 END AS paid
FROM plan p
JOIN (SELECT n, sum(amount) AS untaxed FROM new_line GROUP BY n) l
    ON l.n = p.n
LEFT JOIN (SELECT n, sum(amount) AS tax FROM new_tax GROUP BY n) t
    ON t.n = p.n

-- @step amounts: index
CREATE UNIQUE INDEX ON amounts (n)

-- @step indexes: drop the secondary indexes of the big tables
-- (rebuilt in bulk at the end with their own definitions: much faster
-- than maintaining them row by row)
CREATE TEMP TABLE bench_indexes AS
SELECT i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = 'public'
    AND i.tablename IN ('account_invoice', 'account_invoice_line',
        'account_invoice_line-account_tax', 'account_invoice_tax',
        'account_move', 'account_move_line', 'portal_document',
        'portal_notification')
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c
        WHERE c.conname = i.indexname)

-- @step indexes: drop
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexname FROM bench_indexes LOOP
        EXECUTE 'DROP INDEX ' || quote_ident(r.indexname);
    END LOOP;
END $$

-- @step move numbers
CREATE TEMP TABLE new_move AS
WITH m AS (
    SELECT p.move_id AS id, p.date, p.journal, p.period, p.move_sequence,
        p.stamp, p.company, p.invoice_id, p.n
    FROM plan p
    UNION ALL
    SELECT p.pay_move_id, p.pay_date, pm.journal, p.pay_period,
        p.pay_move_sequence, p.pay_stamp, p.company, p.invoice_id, p.n
    FROM plan p
    CROSS JOIN (SELECT journal FROM account_invoice_payment_method
        ORDER BY id LIMIT 1) pm
    WHERE p.settle <> 'none')
SELECT m.*, seq.number_next_internal - 1 + row_number() OVER (
        PARTITION BY m.move_sequence ORDER BY m.date, m.id) AS number
FROM m JOIN ir_sequence_strict seq ON seq.id = m.move_sequence

-- @step account_move
INSERT INTO account_move (id, company, create_date, create_uid, date,
    journal, number, origin, period, post_date, state, write_date,
    write_uid)
SELECT m.id, m.company, m.stamp, 0, m.date, m.journal, m.number::text,
    'account.invoice,' || m.invoice_id, m.period, m.date, 'posted',
    m.stamp, 0
FROM new_move m

-- @step account_invoice
INSERT INTO account_invoice (id, account, accounting_date, company,
    create_date, create_uid, currency, invoice_address, invoice_date,
    invoice_report_cache_id, invoice_report_format, journal, move, number,
    number_alnum, number_digit, party, party_tax_identifier, payment_term,
    sequence, sequence_type_cache, state, tax_amount_cache, tax_identifier,
    total_amount_cache, type, untaxed_amount_cache, write_date, write_uid,
    ksef_status)
SELECT p.invoice_id, p.account, p.date, p.company,
    p.stamp, 0, p.currency, p.address_id, p.date,
    p.invoice_report_cache_id, p.invoice_report_format, p.journal,
    p.move_id, p.number,
    regexp_replace(p.number, '[\W_]', '', 'g'),
    right(regexp_replace(p.number, '\D', '', 'g'), 18)::bigint,
    p.party, p.party_tax_identifier, p.payment_term,
    p.inv_sequence, p.sequence_type_cache,
    CASE WHEN p.settle = 'full' THEN 'paid' ELSE 'posted' END,
    a.tax, p.tax_identifier, a.total, 'out', a.untaxed,
    CASE WHEN p.settle = 'full' THEN p.pay_stamp ELSE p.stamp END, 0,
    -- The firm's invoices of the past, issued before KSeF reached it
    'none'
FROM plan p JOIN amounts a ON a.n = p.n

-- @step account_invoice_line
INSERT INTO account_invoice_line (id, account, company, create_date,
    create_uid, currency, description, invoice, invoice_type, party,
    quantity, sequence, taxes_deductible_rate, type, unit, unit_price)
SELECT l.id, l.account, p.company, p.stamp, 0, p.currency, l.description,
    p.invoice_id, 'out', p.party, l.quantity, l.sequence,
    l.taxes_deductible_rate, l.type, l.unit, l.unit_price
FROM new_line l JOIN plan p ON p.n = l.n

-- @step account_invoice_line-account_tax
INSERT INTO "account_invoice_line-account_tax" (create_date, create_uid,
    line, tax)
SELECT p.stamp, 0, l.id, l.tax
FROM new_line l JOIN plan p ON p.n = l.n

-- @step account_invoice_tax
INSERT INTO account_invoice_tax (id, account, amount, base, create_date,
    create_uid, description, invoice, legal_notice, manual, sequence, tax)
SELECT t.id, t.account, t.amount, t.base, p.stamp, 0, t.description,
    p.invoice_id, t.legal_notice, t.manual, t.sequence, t.tax
FROM new_tax t JOIN plan p ON p.n = t.n

-- @step move lines: revenue, tax, receivable, payment
CREATE TEMP TABLE new_ml AS
WITH revenue AS (
    SELECT p.n, 'revenue' AS role, p.move_id AS move, l.account,
        round(l.amount * p.company_rate, 2) AS credit, 0::numeric AS debit,
        CASE WHEN p.currency <> c.currency THEN -l.amount END
            AS amount_second_currency,
        NULL::varchar AS description, NULL::date AS maturity_date,
        'account.invoice.line,' || l.id AS origin, NULL::int AS party,
        NULL::int AS reconciliation, p.stamp AS stamp,
        l.id AS sort
    FROM new_line l JOIN plan p ON p.n = l.n
    JOIN company_company c ON c.id = p.company),
tax AS (
    SELECT p.n, 'tax' AS role, p.move_id AS move, t.account,
        round(t.amount * p.company_rate, 2) AS credit, 0::numeric AS debit,
        CASE WHEN p.currency <> c.currency THEN -t.amount END
            AS amount_second_currency,
        t.description, NULL::date AS maturity_date,
        'account.invoice.tax,' || t.id AS origin,
        NULL::int AS party, NULL::int AS reconciliation, p.stamp,
        t.id AS sort
    FROM new_tax t JOIN plan p ON p.n = t.n
    JOIN company_company c ON c.id = p.company
    WHERE t.amount <> 0),
receivable AS (
    SELECT p.n, 'receivable' AS role, p.move_id AS move, p.account,
        0::numeric AS credit, s.credit AS debit,
        CASE WHEN p.currency <> c.currency THEN a.total END
            AS amount_second_currency,
        NULL::varchar AS description, p.due_date AS maturity_date,
        NULL::varchar AS origin, p.party,
        CASE WHEN p.settle = 'full' THEN p.reconciliation_id END
            AS reconciliation,
        p.stamp, 0::int AS sort
    FROM plan p JOIN amounts a ON a.n = p.n
    JOIN company_company c ON c.id = p.company
    JOIN (SELECT n, sum(credit) AS credit FROM (
            SELECT n, credit FROM revenue
            UNION ALL SELECT n, credit FROM tax) x GROUP BY n) s
        ON s.n = p.n),
paid AS (
    SELECT p.*, a.paid, r.debit AS receivable_amount,
        CASE WHEN p.settle = 'full' THEN r.debit
            ELSE round(r.debit * 0.4, 2) END AS paid_company,
        p.currency <> c.currency AS foreign_currency
    FROM plan p JOIN amounts a ON a.n = p.n
    JOIN company_company c ON c.id = p.company
    JOIN receivable r ON r.n = p.n
    WHERE p.settle <> 'none'),
payment AS (
    SELECT x.n, 'pay_receivable', x.pay_move_id, x.account,
        x.paid_company, 0::numeric,
        CASE WHEN x.foreign_currency THEN -x.paid END,
        NULL::varchar, NULL::date, NULL::varchar, x.party,
        CASE WHEN x.settle = 'full' THEN x.reconciliation_id END,
        x.pay_stamp, 1::int
    FROM paid x
    UNION ALL
    SELECT x.n, 'pay_bank', x.pay_move_id, pm.debit_account, 0::numeric,
        x.paid_company, CASE WHEN x.foreign_currency THEN x.paid END,
        NULL::varchar, NULL::date, NULL::varchar, NULL::int, NULL::int,
        x.pay_stamp, 2::int
    FROM paid x
    CROSS JOIN (SELECT debit_account FROM account_invoice_payment_method
        ORDER BY id LIMIT 1) pm)
SELECT (SELECT coalesce(max(id), 0) FROM account_move_line)
        + row_number() OVER (ORDER BY u.move, u.role, u.sort) AS id,
    u.*
FROM (
    SELECT * FROM revenue
    UNION ALL SELECT * FROM tax
    UNION ALL SELECT * FROM receivable
    UNION ALL SELECT * FROM payment) AS u

-- @step account_move_reconciliation
INSERT INTO account_move_reconciliation (id, company, create_date,
    create_uid, date, number)
SELECT p.reconciliation_id, p.company, p.pay_stamp, 0, p.pay_date,
    nextval(('ir_sequence_' || cs.reconciliation_sequence)::regclass)::text
FROM plan p
JOIN account_configuration_sequence cs ON cs.company = p.company
WHERE p.settle = 'full'
ORDER BY p.reconciliation_id

-- @step account_move_line
INSERT INTO account_move_line (id, account, amount_second_currency,
    create_date, create_uid, credit, debit, description, maturity_date,
    move, origin, party, reconciliation, second_currency, state,
    write_date, write_uid)
SELECT l.id, l.account, l.amount_second_currency, l.stamp, 0, l.credit,
    l.debit, l.description, l.maturity_date, l.move, l.origin, l.party,
    l.reconciliation,
    CASE WHEN l.amount_second_currency IS NOT NULL THEN p.currency END,
    'valid',
    CASE WHEN l.reconciliation IS NOT NULL THEN p.pay_stamp END,
    CASE WHEN l.reconciliation IS NOT NULL THEN 0 END
FROM new_ml l JOIN plan p ON p.n = l.n

-- @step account_invoice-account_move_line
INSERT INTO "account_invoice-account_move_line" (create_date, create_uid,
    invoice, line)
SELECT p.pay_stamp, 0, p.invoice_id, l.id
FROM new_ml l JOIN plan p ON p.n = l.n
WHERE l.role = 'pay_receivable'

-- @step portal_document
INSERT INTO portal_document (id, company, create_date, create_uid,
    currency, date, document_type, due_date, number, origin, paid, party,
    remaining, state, tax_base, total, vat, write_date, write_uid)
SELECT p.document_id, p.company, p.stamp, 0, p.currency, p.date,
    'invoice', p.due_date, p.number, 'account.invoice,' || p.invoice_id,
    a.paid, p.party,
    CASE WHEN p.settle = 'full' THEN 0 ELSE a.total - a.paid END,
    CASE WHEN p.settle = 'full' THEN 'paid' ELSE 'issued' END,
    a.untaxed, a.total, a.tax,
    CASE WHEN p.settle <> 'none' THEN p.pay_stamp END,
    CASE WHEN p.settle <> 'none' THEN 0 END
FROM plan p JOIN amounts a ON a.n = p.n

-- @step portal_notification (new_document)
INSERT INTO portal_notification (create_date, create_uid, party, kind,
    document, read_at)
SELECT p.stamp, 0, p.party, 'new_document', p.document_id,
    CASE WHEN p.date < %(today)s::date - 30 THEN p.stamp + interval '2 days'
    END
FROM plan p

-- @step indexes: rebuild
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexdef FROM bench_indexes LOOP
        EXECUTE r.indexdef;
    END LOOP;
END $$

-- @step invoice sequences: next numbers
UPDATE ir_sequence_strict s SET number_next_internal = x.next
FROM (SELECT inv_sequence AS id, max(inv_number) + 1 AS next
    FROM plan GROUP BY inv_sequence
    UNION ALL
    SELECT move_sequence, max(number) + 1 FROM new_move
    GROUP BY move_sequence) x
WHERE s.id = x.id AND s.number_next_internal < x.next

-- @step id sequences (setval)
SELECT t, setval(pg_get_serial_sequence(t, 'id'), m)
FROM (VALUES
    ('account_invoice', (SELECT max(id) FROM account_invoice)),
    ('account_invoice_line', (SELECT max(id) FROM account_invoice_line)),
    ('"account_invoice_line-account_tax"',
        (SELECT max(id) FROM "account_invoice_line-account_tax")),
    ('account_invoice_tax', (SELECT max(id) FROM account_invoice_tax)),
    ('account_move', (SELECT max(id) FROM account_move)),
    ('account_move_line', (SELECT max(id) FROM account_move_line)),
    ('account_move_reconciliation',
        (SELECT max(id) FROM account_move_reconciliation)),
    ('"account_invoice-account_move_line"',
        (SELECT max(id) FROM "account_invoice-account_move_line")),
    ('portal_document', (SELECT max(id) FROM portal_document)),
    ('portal_notification', (SELECT max(id) FROM portal_notification))
    ) AS v(t, m)
