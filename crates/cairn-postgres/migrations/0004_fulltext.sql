-- Full text on PostgreSQL, shared by every node (crates/cairn-postgres/src/fulltext.rs).
--
-- One text search configuration per language the embedded index stems
-- (German, French, Italian, English): accents folded by the unaccent
-- dictionary, then Snowball stemming without stop words (the embedded
-- index drops none either, so "und" is a word like any other). A fifth,
-- cairn_words, only folds: wildcards match against unstemmed words.
--
-- unaccent is a trusted extension: a role that may create objects in the
-- database installs it; otherwise an administrator runs
-- `CREATE EXTENSION unaccent` once before the first start.
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

CREATE TEXT SEARCH DICTIONARY cairn_de_stem (TEMPLATE = snowball, Language = german);
CREATE TEXT SEARCH DICTIONARY cairn_fr_stem (TEMPLATE = snowball, Language = french);
CREATE TEXT SEARCH DICTIONARY cairn_it_stem (TEMPLATE = snowball, Language = italian);
CREATE TEXT SEARCH DICTIONARY cairn_en_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION cairn_de (COPY = simple);
CREATE TEXT SEARCH CONFIGURATION cairn_fr (COPY = simple);
CREATE TEXT SEARCH CONFIGURATION cairn_it (COPY = simple);
CREATE TEXT SEARCH CONFIGURATION cairn_en (COPY = simple);
CREATE TEXT SEARCH CONFIGURATION cairn_words (COPY = simple);

-- The unaccent dictionary lives in whichever schema the extension was
-- installed in: found here, so the mappings name it exactly.
DO $$
DECLARE
    ext text;
    lang text;
    words text := 'asciiword, word, hword, hword_part, asciihword, hword_asciipart';
BEGIN
    SELECT n.nspname INTO ext
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'unaccent';
    FOREACH lang IN ARRAY ARRAY['de', 'fr', 'it', 'en'] LOOP
        EXECUTE format('ALTER TEXT SEARCH CONFIGURATION cairn_%s ALTER MAPPING FOR %s WITH %I.unaccent, cairn_%s_stem',
                       lang, words, ext, lang);
    END LOOP;
    EXECUTE format('ALTER TEXT SEARCH CONFIGURATION cairn_words ALTER MAPPING FOR %s WITH %I.unaccent, simple',
                   words, ext);
    -- Folds a wildcard's letters as cairn_words folds the words it matches.
    EXECUTE format('CREATE FUNCTION cairn_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
                    AS $f$ SELECT lower(%I.unaccent(%L::regdictionary, t)) $f$', ext, ext || '.unaccent');
END
$$;

-- One row per object: its stems in its language (title weighted A, the
-- rest B) and its unstemmed words (for wildcards). A GIN index per
-- language holds the stems of that language's objects, so a query read in
-- each language finds exactly the objects of that language that match it
-- (no row is fetched to be checked again, unless a phrase asks where).
-- Without the pending list (fastupdate) a search never reads through
-- unsorted new entries; the indexer, not the author, pays for the update.
CREATE TABLE fulltext (
    site  text NOT NULL,
    uid   text NOT NULL,
    lang  text NOT NULL,
    doc   tsvector NOT NULL,
    words tsvector NOT NULL,
    PRIMARY KEY (site, uid)
);
CREATE INDEX fulltext_de ON fulltext USING gin (doc) WITH (fastupdate = off) WHERE lang = 'de';
CREATE INDEX fulltext_fr ON fulltext USING gin (doc) WITH (fastupdate = off) WHERE lang = 'fr';
CREATE INDEX fulltext_it ON fulltext USING gin (doc) WITH (fastupdate = off) WHERE lang = 'it';
CREATE INDEX fulltext_en ON fulltext USING gin (doc) WITH (fastupdate = off) WHERE lang = 'en';
CREATE INDEX fulltext_words_gin ON fulltext USING gin (words) WITH (fastupdate = off);

-- Every word ever indexed: a wildcard with `?` or an inner `*` is expanded
-- against it (a prefix range, then a regular expression), as the embedded
-- index walks its term dictionary. Words of deleted objects linger until
-- the next rebuild; they match nothing.
CREATE TABLE fulltext_words (
    site text NOT NULL,
    word text COLLATE "C" NOT NULL,
    PRIMARY KEY (site, word)
);
