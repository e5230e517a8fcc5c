#!/usr/bin/env python3
"""Writes the company fixture: a catalog in the shape of a company's, as issue 21 item 5 asks.

About 200 components (svc-001 .. svc-200, the names the delivery logs in delivery/ use) spread over 64
repositories' catalog-info.yaml files, with the APIs they provide and the databases they use, the
Backstage systems and domains they belong to in a repository of their own, and a Location at the root
whose glob names every repository. Groups and users are absent, as in a company whose org provider
(LDAP, Microsoft Graph, GitHub) holds them: every owner is an unresolved reference.

Deterministic: run it again and nothing changes (python3 Tests/Fixtures/company/generate.py).
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REPOS = os.path.join(HERE, "repos")

DOMAINS = {"commerce": ["storefront", "checkout", "payments"], "operations": ["logistics", "erp-integration"],
           "customer": ["crm", "loyalty"], "technology": ["platform", "data"]}
SYSTEMS = [s for ss in DOMAINS.values() for s in ss]
TEAMS = ["team-%02d" % i for i in range(1, 26)]
PEOPLE = ["ana.silva", "ben.okafor", "chen.li", "dara.nolan", "eva.berg", "femi.ade", "gil.roth", "hana.sato",
          "ivan.petrov", "jo.meyer"]


def component(n):
    """svc-NNN: its type, system, owner, lifecycle, tags and relations, by rules of its number."""
    name = "svc-%03d" % n
    system = SYSTEMS[(n - 1) % len(SYSTEMS)]
    if system == "storefront" and n % 3 == 0 or n % 20 == 0:
        ctype = "website"
    elif n % 23 == 0:
        ctype = "mobile-app"
    else:
        ctype = "service"
    tags = ["platform"] if system == "platform" and ctype == "service" else []
    # One in eight owned by a person (a user reference), the rest by a team: none of them imported.
    owner = "user:default/" + PEOPLE[n % len(PEOPLE)] if n % 8 == 0 else "group:default/" + TEAMS[n % len(TEAMS)]
    lifecycle = "experimental" if n % 17 == 0 else "deprecated" if n % 29 == 0 else "production"
    spec = {"type": ctype, "lifecycle": lifecycle, "owner": owner, "system": system}
    if n % 5 == 1:
        spec["providesApis"] = ["%s-api" % name]
    consumes = ["svc-%03d-api" % m for m in (n - 5, n - 10) if m >= 1 and m % 5 == 1]
    if consumes:
        spec["consumesApis"] = consumes
    depends = []
    if n > 7 and n % 4 == 0:
        depends.append("component:default/svc-%03d" % (n - 7))
    if n % 6 == 0:
        depends.append("resource:default/db-%02d" % (n % 12))
    if depends:
        spec["dependsOn"] = depends
    return name, tags, spec


def yaml_value(v):
    if isinstance(v, list):
        return "[" + ", ".join(v) + "]"
    return str(v)


def entity(kind, name, spec, description=None, tags=(), annotations=None):
    out = ["apiVersion: backstage.io/v1alpha1", "kind: " + kind, "metadata:", "  name: " + name]
    if description:
        out.append("  description: \"%s\"" % description)
    if tags:
        out.append("  tags: [" + ", ".join(tags) + "]")
    if annotations:
        out.append("  annotations:")
        for k, v in annotations.items():
            out.append("    %s: %s" % (k, v))
    out.append("spec:")
    for k, v in spec.items():
        out.append("  %s: %s" % (k, yaml_value(v)))
    return "\n".join(out) + "\n"


def main():
    shutil.rmtree(REPOS, ignore_errors=True)
    # 64 repositories: most hold 3 components, some 4, the last few 1 or 2.
    repos, n = [], 1
    sizes = [3, 3, 4, 3, 2, 3, 4, 3]
    while n <= 200:
        size = min(sizes[len(repos) % len(sizes)], 201 - n)
        repos.append(list(range(n, n + size)))
        n += size
    for i, members in enumerate(repos):
        repo = "repo-%02d-%s" % (i + 1, SYSTEMS[(members[0] - 1) % len(SYSTEMS)])
        docs = []
        for m in members:
            name, tags, spec = component(m)
            docs.append(entity("Component", name, spec, description="%s of %s" % (name, spec["system"]), tags=tags,
                               annotations={"github.com/project-slug": "company/" + repo}))
            for api in spec.get("providesApis", []):
                docs.append(entity("API", api, {"type": "asyncapi" if m % 10 == 1 else "openapi", "lifecycle": "production",
                                                "owner": spec["owner"], "system": spec["system"],
                                                "definition": "\"openapi: 3.0.0\""}))
        os.makedirs(os.path.join(REPOS, repo))
        with open(os.path.join(REPOS, repo, "catalog-info.yaml"), "w") as f:
            f.write("---\n".join(docs))
    # The databases, in the data team's infrastructure repository.
    os.makedirs(os.path.join(REPOS, "infrastructure"))
    with open(os.path.join(REPOS, "infrastructure", "catalog-info.yaml"), "w") as f:
        f.write("---\n".join(entity("Resource", "db-%02d" % i, {"type": "database", "owner": "group:default/team-data",
                                                                  "system": "data"}) for i in range(12)))
    # The systems and domains, in the architecture repository.
    os.makedirs(os.path.join(REPOS, "architecture"))
    docs = [entity("Domain", d, {"owner": "group:default/%s-leadership" % d}) for d in DOMAINS]
    docs += [entity("System", s, {"owner": "group:default/" + TEAMS[i % len(TEAMS)], "domain": d})
             for d, ss in DOMAINS.items() for i, s in enumerate(ss)]
    with open(os.path.join(REPOS, "architecture", "catalog-info.yaml"), "w") as f:
        f.write("---\n".join(docs))
    with open(os.path.join(HERE, "catalog-info.yaml"), "w") as f:
        f.write(entity("Location", "company", {"type": "file", "targets": ["./repos/*/catalog-info.yaml"]},
                       description="Every repository's catalog file: the root the catalog is registered from"))


if __name__ == "__main__":
    main()
