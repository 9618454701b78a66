-- The decision query of the PostgreSQL peer: may organisation $1 market to
-- subject $2 over channel $3 ('email', 'sms', ...) for purpose $4
-- ('commercial', 'charitable', 'campaigning') about product category $5
-- ('' for none) at time $6?
--
-- It answers the core of the ledger's rules from the facts that had
-- occurred by $6: an objection or an opt-out covering the channel refuses
-- (R1); otherwise consent covering the channel and purpose, collected by
-- a valid method and not withdrawn since, allows; otherwise the soft
-- opt-in allows email and SMS: for a commercial organisation, a sale or a
-- negotiation (not a general enquiry) of a category the marketed one is
-- similar to, for a charity, a support fact, collected directly with an
-- opt-out offered and not taken. This is a subset of the ledger's rule set
-- (no subscriber types, TPS/CTPS, call rules, third-party consent rules,
-- evidence or citations), so it favours PostgreSQL.
WITH e AS (
    SELECT kind, occurred_at, channels, purposes, all_channels, product_category_id,
           route, opt_out_offered, opt_out_taken, negotiation_kind, consent_method
    FROM subject_events
    WHERE organisation_id = $1 AND subject_id = $2 AND occurred_at <= $6
),
o AS (
    SELECT kind FROM organisations WHERE organisation_id = $1
),
d AS MATERIALIZED (
    SELECT
        EXISTS (SELECT 1 FROM e WHERE kind = 'objection_recorded') AS objected,
        EXISTS (SELECT 1 FROM e WHERE kind = 'opt_out_recorded'
                AND (all_channels OR $3 = ANY (channels))) AS opted_out,
        EXISTS (
            SELECT 1 FROM e g
            WHERE g.kind = 'consent_given'
              AND $3 = ANY (g.channels) AND $4 = ANY (g.purposes)
              AND g.consent_method NOT IN ('pre_ticked_checkbox', 'inferred')
              AND NOT EXISTS (
                  SELECT 1 FROM e w
                  WHERE w.kind = 'consent_withdrawn' AND w.occurred_at >= g.occurred_at
                    AND (cardinality(w.channels) = 0 OR $3 = ANY (w.channels))
                    AND (cardinality(w.purposes) = 0 OR $4 = ANY (w.purposes)))
        ) AS consented,
        ($3 IN ('email', 'sms') AND EXISTS (
            SELECT 1 FROM e s, o
            WHERE s.route IN ('direct', 'trading_subsidiary')
              AND s.opt_out_offered AND NOT s.opt_out_taken
              AND (
                  (o.kind = 'commercial' AND $4 = 'commercial'
                   AND (s.kind = 'sale_recorded'
                        OR (s.kind = 'negotiation_recorded' AND s.negotiation_kind <> 'general_enquiry'))
                   AND ($5 = '' OR s.product_category_id = $5
                        OR EXISTS (SELECT 1 FROM product_similarity p
                                   WHERE p.organisation_id = $1
                                     AND p.category_id = s.product_category_id
                                     AND p.similar_id = $5)))
                  OR (o.kind = 'charity' AND $4 = 'charitable'
                      AND s.kind = 'charity_support_recorded'))
        )) AS soft_opt_in
)
SELECT NOT objected AND NOT opted_out AND (consented OR soft_opt_in) AS allowed,
       objected, opted_out, consented, soft_opt_in
FROM d;
