-- Content and its catalog: one row per object with the catalog columns
-- beside the field JSON, the view-permission rows (allowedRolesAndUsers),
-- keywords, redirects, kept versions, the trash and the links catalog.
-- Text that is compared in ranges or sorted uses the "C" collation: paths
-- compare byte-wise, so the subtree of /a is the range [/a/, /a0) as on
-- SQLite, whatever the database's locale.
CREATE TABLE content (
    site            text COLLATE "C" NOT NULL,
    uid             text COLLATE "C" NOT NULL,
    path            text COLLATE "C" NOT NULL,
    parent_path     text COLLATE "C",
    depth           bigint NOT NULL,
    position        bigint NOT NULL,
    portal_type     text COLLATE "C" NOT NULL,
    review_state    text COLLATE "C",
    is_folderish    boolean NOT NULL,
    title           text COLLATE "C" NOT NULL,
    sortable_title  text COLLATE "C" NOT NULL,
    created         text COLLATE "C" NOT NULL,
    modified        text COLLATE "C" NOT NULL,
    effective       text COLLATE "C",
    expires         text COLLATE "C",
    language        text COLLATE "C",
    exclude_from_nav boolean NOT NULL,
    layout          text,
    version         bigint NOT NULL,
    parent_uid      text COLLATE "C",
    fields          text NOT NULL,
    -- The fields a summary needs (no rich text or blocks): a catalog brain.
    meta            text NOT NULL,
    allowed         text NOT NULL,
    -- Anonymous may view it: anonymous queries filter on this column alone.
    public          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (site, uid)
);
CREATE UNIQUE INDEX content_path ON content (site, path);
CREATE INDEX content_parent_position ON content (site, parent_path, position);
CREATE INDEX content_depth_position ON content (site, depth, position);
-- Listings and searches by type below a path, counted from the index.
CREATE INDEX content_type_path ON content (site, portal_type, path, review_state, public, effective, expires, uid);
CREATE INDEX content_parent_public ON content (site, parent_path, public, position, effective, expires, uid);
-- The members of a translation group: few objects have one.
CREATE INDEX content_translation_group ON content (site, ((fields::json ->> '_tg')))
    WHERE (fields::json ->> '_tg') IS NOT NULL;

CREATE TABLE content_allowed (
    site      text COLLATE "C" NOT NULL,
    uid       text COLLATE "C" NOT NULL,
    principal text COLLATE "C" NOT NULL,
    PRIMARY KEY (site, principal, uid)
);
CREATE INDEX content_allowed_uid ON content_allowed (site, uid);

CREATE TABLE content_subjects (
    site    text COLLATE "C" NOT NULL,
    uid     text COLLATE "C" NOT NULL,
    subject text COLLATE "C" NOT NULL,
    PRIMARY KEY (site, subject, uid)
);
CREATE INDEX content_subjects_uid ON content_subjects (site, uid);

CREATE TABLE redirects (
    site      text COLLATE "C" NOT NULL,
    from_path text COLLATE "C" NOT NULL,
    to_path   text COLLATE "C" NOT NULL,
    manual    boolean NOT NULL,
    created   text COLLATE "C" NOT NULL,
    PRIMARY KEY (site, from_path)
);
CREATE INDEX redirects_to ON redirects (site, to_path);

-- Kept versions; `data` holds a patch of the version before when `delta`.
CREATE TABLE versions (
    site    text COLLATE "C" NOT NULL,
    uid     text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    actor   text NOT NULL,
    time    text COLLATE "C" NOT NULL,
    comment text NOT NULL,
    data    text NOT NULL,
    delta   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (site, uid, version)
);

-- A deleted subtree, kept whole (its objects as JSON) until restored or purged.
CREATE TABLE trash (
    id          bigserial PRIMARY KEY,
    site        text COLLATE "C" NOT NULL,
    uid         text COLLATE "C" NOT NULL,
    path        text COLLATE "C" NOT NULL,
    title       text NOT NULL,
    portal_type text NOT NULL,
    owner       text,
    deleted_by  text NOT NULL,
    deleted_at  bigint NOT NULL,
    items       bigint NOT NULL,
    objects     text NOT NULL
);
CREATE INDEX trash_by_site ON trash (site, deleted_at);

-- Which object points to which, by relation name; `id` keeps insertion order.
CREATE TABLE links (
    id       bigserial PRIMARY KEY,
    site     text COLLATE "C" NOT NULL,
    source   text COLLATE "C" NOT NULL,
    relation text COLLATE "C" NOT NULL,
    target   text COLLATE "C" NOT NULL,
    UNIQUE (site, source, relation, target)
);
CREATE INDEX links_by_target ON links (site, target);
CREATE INDEX links_by_relation ON links (site, relation);
