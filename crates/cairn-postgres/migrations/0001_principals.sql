-- Users, groups and memberships (the user folder), per site.
CREATE TABLE users (
    site          text NOT NULL,
    id            text NOT NULL,
    password_hash text NOT NULL,
    fullname      text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    roles         jsonb NOT NULL DEFAULT '[]',
    props         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (site, id)
);
-- Login by e-mail address and the users search look addresses up.
CREATE INDEX users_by_email ON users (site, lower(email));

CREATE TABLE groups (
    site        text NOT NULL,
    id          text NOT NULL,
    title       text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    email       text NOT NULL DEFAULT '',
    roles       jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (site, id)
);

-- A member is a user or a group (groups nest).
CREATE TABLE members (
    site      text NOT NULL,
    group_id  text NOT NULL,
    member_id text NOT NULL,
    PRIMARY KEY (site, group_id, member_id)
);
CREATE INDEX members_by_member ON members (site, member_id);
