-- The PostgreSQL peer: the consent store a team would otherwise build on
-- PostgreSQL, holding the same generated facts as the ledger's benchmark.
-- One row per subject fact (the decision-relevant fields as columns, the
-- rest as kind only), the organisations and their product similarity.
-- Loaded by consent-bench (crates/consent-bench/src/postgres.rs) with COPY.

DROP TABLE IF EXISTS subject_events;
DROP TABLE IF EXISTS product_similarity;
DROP TABLE IF EXISTS organisations;

CREATE TABLE organisations (
    organisation_id text PRIMARY KEY,
    -- commercial, charity, political_party, other_not_for_profit
    kind text NOT NULL
);

-- A category is similar to itself and to the categories its definition
-- names (the latest definition).
CREATE TABLE product_similarity (
    organisation_id text NOT NULL,
    category_id text NOT NULL,
    similar_id text NOT NULL,
    PRIMARY KEY (organisation_id, category_id, similar_id)
);

CREATE TABLE subject_events (
    organisation_id text NOT NULL,
    subject_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    event_id uuid NOT NULL,
    -- consent_given, consent_withdrawn, sale_recorded, negotiation_recorded,
    -- charity_support_recorded, opt_out_recorded, objection_recorded,
    -- marketing_message_sent, ... (the fact's kind)
    kind text NOT NULL,
    channels text[] NOT NULL DEFAULT '{}',
    purposes text[] NOT NULL DEFAULT '{}',
    all_channels boolean NOT NULL DEFAULT false,
    product_category_id text,
    route text,
    opt_out_offered boolean,
    opt_out_taken boolean,
    negotiation_kind text,
    consent_method text,
    -- One subject's facts in time order: the decision's only access path.
    PRIMARY KEY (organisation_id, subject_id, occurred_at, event_id)
);
