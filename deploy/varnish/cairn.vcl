# Varnish in front of cairn (Varnish 7 with the xkey vmod from varnish-modules).
#
# cairn marks what may be kept: anonymous reads carry
# `Cache-Control: public, max-age=0, s-maxage=N` and an `xkey` header with the
# cache tags of everything they show; authenticated answers are private and
# errors `no-store`. cairn's purge jobs (`caching.varnish = ["http://host:6081"]`)
# send `PURGE /` with `xkey-purge: <tags>` (or `xkey-softpurge`) and `PURGE <url>`
# for the changed places; `xkey-purge-all` drops everything.
#
# Set the backend to where `cairn serve` listens and the ACL to where purges
# come from (the cairn nodes and workers).
vcl 4.1;

import xkey;

backend cairn {
    .host = "127.0.0.1";
    .port = "8080";
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-purge-all) {
            ban("obj.status != 0");
            return (synth(200, "Banned everything"));
        }
        if (req.http.xkey-purge) {
            set req.http.n-gone = xkey.purge(req.http.xkey-purge);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        if (req.http.xkey-softpurge) {
            set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        return (purge);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Signed-in readers get their own answers, never a shared one.
    if (req.http.Authorization || req.http.Cookie ~ "auth_token=") {
        return (pass);
    }
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    # Only what cairn declares public is kept (for its s-maxage).
    if (beresp.http.Cache-Control !~ "public") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
}

sub vcl_deliver {
    # The tags are for this cache, not for browsers.
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
