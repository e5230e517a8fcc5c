#!/usr/bin/env python3
"""Writes a synthetic portfolio for the assessment bench.

At scale 1: 10,000 products, 2,000 systems, 1,000 managers and 200,000 metric observations (with
20,000 metrics, 1,000 teams, 100 journeys of 10 stages, 500 OKRs and 2,000 experiments). The mix of
owned, unowned, coupled and measured entities is drawn from a fixed seed, so every run assesses the
same document and every pitfall has something to find.

usage: synth_portfolio.py SCALE OUT.json
"""
import json
import random
import sys


def build(scale: float) -> dict:
    rnd = random.Random(20261124)
    n_products, n_systems, n_managers = int(10_000 * scale), int(2_000 * scale), int(1_000 * scale)
    n_metrics, n_obs = int(20_000 * scale), int(200_000 * scale)
    n_journeys, n_teams, n_okrs, n_experiments = max(1, int(100 * scale)), int(1_000 * scale), int(500 * scale), int(2_000 * scale)
    kinds = ["marketing", "sales", "operations", "it", "finance", "customer-service", "digital", "division", "division", "division"]
    departments = [{"id": f"d{i}", "name": f"Department {i}", "kind": kinds[i % len(kinds)]} for i in range(20)]
    journeys = [{"id": f"j{i}", "name": f"Journey {i}", "kind": "journey" if i % 4 else "life-event",
                 "segment": f"seg{i % 7}", "stages": [{"id": f"s{k}", "name": f"Stage {k}"} for k in range(10)]}
                for i in range(n_journeys)]
    layers = ["front-end", "platform", "back-end"]
    systems = []
    for i in range(n_systems):
        layer = layers[i % 3]
        fast = layer == "front-end" and rnd.random() < 0.7
        interfaces = []
        for _ in range(rnd.randint(0, 3)):
            to = rnd.randrange(n_systems)
            if to != i and all(x["to"] != f"sys{to}" for x in interfaces):
                interfaces.append({"to": f"sys{to}", "kind": rnd.choice(["api", "api", "event", "direct", "file"])})
        systems.append({
            "id": f"sys{i}", "name": f"System {i}", "layer": layer,
            "architecture": rnd.choice(["monolith", "modular", "microservices", "saas", "packaged"]),
            "delivery": {"deploysPerMonth": round(rnd.uniform(20, 90) if fast else rnd.uniform(0.2, 6), 2),
                         "leadTimeHours": round(rnd.uniform(2, 30) if fast else rnd.uniform(100, 3000), 1),
                         "changeFailureRate": round(rnd.uniform(0.02, 0.45), 3),
                         "recoveryHours": round(rnd.uniform(0.2, 3) if fast else rnd.uniform(10, 400), 1)},
            "interfaces": interfaces, "department": f"d{i % 20}",
            "sourcing": rnd.choice(["in-house", "in-house", "external-developer", "acquired"])})
    managers = []
    skills = ["business", "technology", "ux-design", "agile-delivery", "finance", "marketing", "engineering", "data",
              "customer-empathy", "problem-solving", "creativity", "communication"]
    for i in range(n_managers):
        managers.append({
            "id": f"m{i}", "name": f"Manager {i}",
            "origin": rnd.choice(["marketing", "sales", "operations", "it", "it", "external-hire"]),
            "skills": rnd.sample(skills, rnd.randint(1, 5)), "training": ["PM basics"] if rnd.random() < 0.5 else [],
            "mentor": f"m{(i + 1) % n_managers}" if rnd.random() < 0.3 and n_managers > 1 else None,
            "decisionRights": rnd.choice(["redefine", "prioritize", "requests-only"]), "department": f"d{i % 20}",
            "measuredOn": [f"met{rnd.randrange(n_metrics)}" for _ in range(rnd.randint(0, 3))]})
        if managers[-1]["mentor"] is None:
            del managers[-1]["mentor"]
        managers[-1]["measuredOn"] = sorted(set(managers[-1]["measuredOn"]))
    teams = [{"id": f"t{i}", "name": f"Team {i}", "size": rnd.randint(3, 15), "manager": f"m{i % n_managers}",
              "codevelopment": rnd.random() < 0.6, "department": f"d{i % 20}"} for i in range(n_teams)]
    okrs = []
    for i in range(n_okrs):
        o = {"id": f"o{i}", "objective": f"Objective {i}", "departments": sorted({f"d{rnd.randrange(20)}" for _ in range(rnd.randint(1, 3))}),
             "keyResults": [{"description": f"KR {i}", "metric": f"met{rnd.randrange(n_metrics)}", "target": 10}]}
        if i >= 10 and rnd.random() < 0.6:
            o["parent"] = f"o{rnd.randrange(i // 2)}"
        okrs.append(o)
    products = []
    for i in range(n_products):
        j = rnd.randrange(n_journeys)
        p = {"id": f"p{i}", "name": f"Product {i}", "status": rnd.choice(["idea", "discovery", "mvp", "rollout", "live", "live", "retired"]),
             "stages": sorted({f"j{j}/s{rnd.randrange(10)}" for _ in range(rnd.randint(0, 3))}),
             "department": f"d{i % 20}", "resources": rnd.randint(1, 80), "value": rnd.randint(10_000, 5_000_000),
             "sourcing": rnd.choice(["in-house", "in-house", "in-house", "external-developer"]),
             "systems": sorted({f"sys{rnd.randrange(n_systems)}" for _ in range(rnd.randint(0, 3))}),
             "okrs": sorted({f"o{rnd.randrange(n_okrs)}" for _ in range(rnd.randint(0, 2))}) if n_okrs else [],
             "launched": f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
             "rice": {"reach": rnd.randint(100, 100_000), "impact": rnd.choice([0.25, 0.5, 1, 2, 3]),
                      "confidence": rnd.choice([0.5, 0.8, 1]), "effort": rnd.randint(1, 12)}}
        if rnd.random() < 0.8:
            p["owner"] = f"m{rnd.randrange(n_managers)}"
        if rnd.random() < 0.7:
            p["team"] = f"t{rnd.randrange(n_teams)}"
        if rnd.random() < 0.7:
            p["problem"] = f"Problem {i}"
            p["justification"] = rnd.choice(["user-problem", "user-problem", "competitor-feature", "top-down-plan"])
        if rnd.random() < 0.5:
            p["lastIteration"] = f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d}"
        products.append(p)
    metrics = []
    per_metric = max(1, n_obs // max(1, n_metrics))
    cats = ["profit", "customer-behavior", "customer-satisfaction", "efficiency", "current-sales", "delivery"]
    for i in range(n_metrics):
        metrics.append({
            "id": f"met{i}", "name": f"Metric {i}", "category": cats[i % len(cats)], "direction": "higher",
            "baseline": 10, "target": 20,
            "observations": [{"at": f"2026-{1 + (k % 11):02d}-{1 + (k % 28):02d}", "value": round(rnd.uniform(0, 100), 2)}
                             for k in range(per_metric)],
            "products": [f"p{rnd.randrange(n_products)}"], "managers": [f"m{rnd.randrange(n_managers)}"] if rnd.random() < 0.5 else []})
    experiments = []
    for i in range(n_experiments):
        users = rnd.randint(1000, 50_000)
        share = rnd.choice([0.1, 0.2, 0.5])
        v = int(users * share)
        experiments.append({"id": f"e{i}", "product": f"p{rnd.randrange(n_products)}", "hypothesis": f"Hypothesis {i}",
                            "metric": f"met{rnd.randrange(n_metrics)}", "rollout": [share, 1.0], "stage": 0,
                            "control": {"users": users - v, "conversions": int((users - v) * 0.1)},
                            "variant": {"users": v, "conversions": int(v * rnd.uniform(0.08, 0.13))},
                            "decision": rnd.choice(["pending", "expand", "iterate", "roll-back"])})
    return {"id": "synthetic", "organization": {"name": "Synthetic Co", "industry": "other", "departments": departments},
            "journeys": journeys, "products": products, "managers": managers, "teams": teams, "systems": systems,
            "metrics": metrics, "okrs": okrs, "experiments": experiments}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[2], "w") as f:
        json.dump(build(float(sys.argv[1])), f, separators=(",", ":"))
