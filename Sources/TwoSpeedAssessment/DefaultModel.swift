import TwoSpeedJSON

/// The default assessment model of DOMAIN.md, kept as a JSON document and loaded through the same
/// decoder and checks as any custom model. Each criterion cites its source among the articles:
/// 000 = "A two-speed IT architecture for the digital enterprise" (McKinsey), 002 = "About the gap
/// between hands-on product management and company strategy", 003 = "How the digital marketplace is
/// redefining customer relationships" (MIT Sloan), 004 = "Why internal product managers are the key
/// to successful DT initiatives" (Emeritus).
public enum DefaultModel {
    public static let id = "twospeed-default"

    public static let model: AssessmentModel = {
        // The document is part of the program: a failure here is a bug caught by every test run.
        do { return try JanssonDecoder().decode(AssessmentModel.self, from: json) } catch {
            fatalError("the default assessment model does not decode: \(error)")
        }
    }()

    public static let json = #"""
    {
      "id": "twospeed-default",
      "name": "Two-speed operating model",
      "version": "1.0",
      "description": "Ten dimensions of a two-speed IT architecture and digital product management, scored 1 (traditional) to 5 (digital leader) from facts derived from the portfolio and from self-assessment answers.",
      "source": "McKinsey, 'A two-speed IT architecture for the digital enterprise'; MIT Sloan Executive Education; Emeritus; DOMAIN.md",
      "factWeight": 0.6,
      "minimumEvidence": 0.5,
      "levelCaps": [
        {"severity": "high", "maxLevel": 3, "reason": "a standing high-severity pitfall (at most defined)"},
        {"severity": "medium", "maxLevel": 4, "reason": "a standing medium-severity pitfall (at most integrated)"}
      ],
      "levels": [
        {"level": 1, "name": "traditional", "minScore": 1.0},
        {"level": 2, "name": "emerging", "minScore": 1.8},
        {"level": 3, "name": "defined", "minScore": 2.6},
        {"level": 4, "name": "integrated", "minScore": 3.4},
        {"level": 5, "name": "digital leader", "minScore": 4.2}
      ],
      "dimensions": [
        {
          "id": "architecture", "name": "Two-speed architecture", "weight": 1.2,
          "description": "Front-end and back-end systems decoupled through interfaces; front ends released in days or weeks; no front-end release waits on a back-end quarterly cycle (McKinsey).",
          "criteria": [
            {"id": "architecture.decoupled", "text": "Front-end systems reach the back end only through APIs or events.", "weight": 2,
             "fact": "frontEndDecoupled", "scale": [0, 1], "effort": 4,
             "recommendation": "Put an API or event interface between each front end and the back-end systems it calls directly, so each can change on its own (McKinsey: microservices that can be enhanced and updated independently)."},
            {"id": "architecture.fast-front-end", "text": "Front-end systems are released in days or weeks.", "weight": 2,
             "fact": "frontEndFast", "scale": [0, 1], "effort": 3,
             "recommendation": "Give the slow front ends their own release pipeline and measure them on DORA's four keys until they reach the high cluster."},
            {"id": "architecture.ungated", "text": "No front-end release waits on a back-end quarterly cycle.", "weight": 1.5,
             "fact": "frontEndUngated", "scale": [0, 1], "effort": 4,
             "recommendation": "Break the direct couplings that tie front ends to systems in DORA's low cluster; move the shared logic behind a versioned API."},
            {"id": "architecture.interfaces", "text": "Systems talk to each other through APIs and events.", "weight": 1,
             "fact": "interfacesDecoupled", "scale": [0, 1], "effort": 3,
             "recommendation": "Replace direct database and file couplings with APIs or events, starting with those of customer-facing systems."}
          ]
        },
        {
          "id": "product-definition", "name": "Product definition", "weight": 1,
          "description": "Products defined by the customer or business problem they solve and the experience stages they cover; success metrics defined; prioritized by value against resources (McKinsey).",
          "criteria": [
            {"id": "definition.problem", "text": "Each product states the user or business problem it solves.", "weight": 2,
             "fact": "productsWithProblem", "scale": [0, 1], "effort": 1,
             "recommendation": "Write down the user or business problem of every product before its next funding decision (McKinsey: start by defining the problems)."},
            {"id": "definition.experiences", "text": "Products are customer experiences (the whole checkout), not applications.", "weight": 2,
             "fact": "productsAsExperiences", "scale": [0, 1], "effort": 2,
             "recommendation": "Redefine application-shaped products as the journey stages they serve."},
            {"id": "definition.metrics", "text": "Each product has success metrics it can move.", "weight": 1.5,
             "fact": "productsWithMetrics", "scale": [0, 1], "effort": 1,
             "recommendation": "Define for each product the metric that would show its success or failure."},
            {"id": "definition.prioritized", "text": "Products are prioritized by value against the development resources they need.", "weight": 1,
             "fact": "productsSized", "scale": [0, 1], "effort": 1,
             "recommendation": "Estimate value and person-weeks (or RICE or WSJF inputs) for every product and rank the portfolio on them."}
          ]
        },
        {
          "id": "ownership", "name": "Ownership and accountability", "weight": 1.2,
          "description": "Every stage of every journey has exactly one accountable product manager; managers own experiences, not single applications; managers may redefine their product (McKinsey).",
          "criteria": [
            {"id": "ownership.stages", "text": "Every journey stage has exactly one accountable product manager.", "weight": 2,
             "fact": "stagesSingleOwner", "scale": [0, 1], "effort": 2,
             "recommendation": "Assign each unowned stage to one product manager and settle the stages two managers share (McKinsey: assign discrete parts of the customer experience to product managers)."},
            {"id": "ownership.products", "text": "Every product has an accountable owner.", "weight": 1.5,
             "fact": "productsOwned", "scale": [0, 1], "effort": 1,
             "recommendation": "Name an accountable owner for every product that has none."},
            {"id": "ownership.rights", "text": "Product managers may redefine their product, not only take requests.", "weight": 1.5,
             "fact": "managersEmpowered", "scale": [0, 1], "effort": 2,
             "recommendation": "Give product managers the right to redefine their product (a one-click checkout rather than an upgraded multistep one), not only to execute requests."}
          ]
        },
        {
          "id": "test-and-learn", "name": "Test and learn", "weight": 1,
          "description": "Lite versions in front of real customers early and often; staged rollouts with a decision metric; pilots used as proof of concept (McKinsey).",
          "criteria": [
            {"id": "test.lite-versions", "text": "Products reach real customers as lite versions first.", "weight": 2,
             "fact": "productsTested", "scale": [0, 1], "effort": 2,
             "recommendation": "Put a lite version of each new product in front of a slice of real customers before building the whole (McKinsey: the retailer ran 10 percent of its traffic through its lite checkout)."},
            {"id": "test.staged-rollouts", "text": "Rollouts go in stages, from a small share of traffic, on a decision metric.", "weight": 1.5,
             "fact": "rolloutsStaged", "scale": [0, 1], "effort": 2,
             "recommendation": "Roll changes out at 10%, then 50%, then 100% of traffic, deciding each step on one metric."},
            {"id": "test.measured", "text": "Experiments count control and variant outcomes.", "weight": 1,
             "fact": "experimentsMeasured", "scale": [0, 1], "effort": 1,
             "recommendation": "Record users and conversions of both arms for every experiment so that lift and significance can be computed."},
            {"id": "test.pilots", "text": "Pilot projects are used as proof of concept to win over the skeptics.", "weight": 1, "effort": 2,
             "recommendation": "Start with a pilot whose success can serve as proof of concept for the test-and-learn approach."}
          ]
        },
        {
          "id": "talent", "name": "Talent", "weight": 0.9,
          "description": "Managers with both business and technology background; hiring from new pools and developing internal talent through training and mentorship; soft skills (McKinsey, Emeritus).",
          "criteria": [
            {"id": "talent.business-and-tech", "text": "Product managers combine a business and a technology background.", "weight": 2,
             "fact": "managersBusinessAndTech", "scale": [0, 1], "effort": 3,
             "recommendation": "Pair each product manager's business or technology background with training in the other."},
            {"id": "talent.developed", "text": "Product managers are trained and mentored.", "weight": 1.5,
             "fact": "managersDeveloped", "scale": [0, 1], "effort": 2,
             "recommendation": "Give every product manager product-management training and an experienced mentor (Emeritus)."},
            {"id": "talent.soft-skills", "text": "Product managers bring customer empathy, problem solving and creativity.", "weight": 1,
             "fact": "managersSoftSkills", "scale": [0, 1], "effort": 3,
             "recommendation": "Hire and promote product managers for customer empathy, problem solving and creativity as well as for technology."},
            {"id": "talent.new-pools", "text": "Product managers come from new pools: marketing, sales, operations, outside hires.", "weight": 1,
             "fact": "managersFromNewPools", "scale": [0, 0.75], "effort": 3,
             "recommendation": "Look for product managers in marketing, sales and operations, who already know the customers and the company (Emeritus)."}
          ]
        },
        {
          "id": "collaboration", "name": "Collaboration", "weight": 0.9,
          "description": "Product managers and engineers codevelop in small teams; informal, cross-functional work rather than formal hand-offs (McKinsey).",
          "criteria": [
            {"id": "collaboration.codevelop", "text": "Product managers sit and work with the engineers.", "weight": 2,
             "fact": "teamsCodeveloping", "scale": [0, 1], "effort": 2,
             "recommendation": "Seat product managers with their engineers and drop the formal hand-offs between them (McKinsey: codevelopment)."},
            {"id": "collaboration.small-teams", "text": "Teams are small.", "weight": 1,
             "fact": "teamsSmall", "scale": [0, 1], "effort": 3,
             "recommendation": "Split teams of more than ten people around the experiences they serve."},
            {"id": "collaboration.teams", "text": "Every product has a team.", "weight": 1,
             "fact": "productsWithTeam", "scale": [0, 1], "effort": 2,
             "recommendation": "Give every active product a standing team rather than a project that moves on."},
            {"id": "collaboration.informal", "text": "Work across functions is informal, not run through formal communication processes.", "weight": 1, "effort": 2,
             "recommendation": "Replace formal request processes between business and IT with shared rituals in one team."}
          ]
        },
        {
          "id": "incentives", "name": "Incentives and metrics", "weight": 1.1,
          "description": "Managers measured on business outcomes they influence directly (conversion, sales, satisfaction), not on how fast they answer requests; data drives decisions (McKinsey, Emeritus).",
          "criteria": [
            {"id": "incentives.influenceable", "text": "Managers are measured on metrics they can influence directly.", "weight": 2,
             "fact": "measuresInfluenceable", "scale": [0, 1], "effort": 2,
             "recommendation": "Measure each manager only on metrics their own products can move (McKinsey: conversion rate is fair for the owner of the front page)."},
            {"id": "incentives.outcomes", "text": "Product managers are measured on business outcomes, not on delivery speed.", "weight": 2,
             "fact": "managersOnOutcomes", "scale": [0, 1], "effort": 2,
             "recommendation": "Replace request-turnaround targets with business outcomes such as conversion, sales or satisfaction."},
            {"id": "incentives.tracked", "text": "Metrics have targets and are observed regularly.", "weight": 1,
             "fact": "metricsTracked", "scale": [0, 1], "effort": 1,
             "recommendation": "Set a target for every metric and feed in observations at least quarterly."}
          ]
        },
        {
          "id": "strategy", "name": "Strategy alignment", "weight": 1,
          "description": "The roadmap comes from validated user problems, not a competitor feature list or a finished top-down plan; shared OKRs across departments; executive buy-in (product-strategy gap, Emeritus).",
          "criteria": [
            {"id": "strategy.user-problems", "text": "The roadmap comes from validated user problems.", "weight": 2,
             "fact": "productsFromUserProblems", "scale": [0, 1], "effort": 2,
             "recommendation": "Take competitor-driven and top-down items back to the user problem they would solve; drop those with none (product-strategy gap)."},
            {"id": "strategy.shared-okrs", "text": "Objectives are shared across departments.", "weight": 1.5,
             "fact": "okrsShared", "scale": [0, 1], "effort": 2,
             "recommendation": "Link every department objective to an objective shared across departments (Emeritus: Marketing's brand awareness linked to Sales' new clients)."},
            {"id": "strategy.products-on-okrs", "text": "Every product serves an objective.", "weight": 1,
             "fact": "productsOnOKRs", "scale": [0, 1], "effort": 1,
             "recommendation": "Tie each product to the objective it serves, or question why it is funded."},
            {"id": "strategy.executive-buy-in", "text": "The executives, from the CEO to department heads, back the product organization.", "weight": 1.5, "effort": 3,
             "recommendation": "Win the CEO and the department heads over to the product office and its goals before scaling it (Emeritus)."}
          ]
        },
        {
          "id": "customer-centricity", "name": "Customer-centric organization", "weight": 1,
          "description": "One customer across products, organized around experiences or life events rather than product divisions; shared digital platforms of processes and data (MIT Sloan).",
          "criteria": [
            {"id": "customer.one-customer", "text": "A customer served by several divisions meets one company.", "weight": 2,
             "fact": "segmentsUnified", "scale": [0, 1], "effort": 5,
             "recommendation": "Organize the divisions' products serving the same customer around one journey or life event with one customer view (MIT Sloan: USAA moved from product silos to member life events)."},
            {"id": "customer.platforms", "text": "Products are built on shared digital platforms of processes and data.", "weight": 1.5,
             "fact": "productsOnSharedPlatforms", "scale": [0, 1], "effort": 4,
             "recommendation": "Move shared processes and customer data onto platforms every product can use (MIT Sloan)."},
            {"id": "customer.coverage", "text": "Every stage of the customer journeys is served by a product.", "weight": 1,
             "fact": "stagesCovered", "scale": [0, 1], "effort": 3,
             "recommendation": "Give the journey stages no product serves a product and an owner."}
          ]
        },
        {
          "id": "culture", "name": "Culture", "weight": 0.8,
          "description": "Experimentation, learning from failure, owning the outcome rather than the output (McKinsey, Emeritus).",
          "criteria": [
            {"id": "culture.decisions", "text": "Experiments end in decisions: expand, iterate or roll back.", "weight": 1.5,
             "fact": "experimentsDecided", "scale": [0, 1], "effort": 1,
             "recommendation": "Close every experiment with a decision, rollbacks included, and share what was learned."},
            {"id": "culture.iterate", "text": "Live products keep improving after launch.", "weight": 1.5,
             "fact": "productsIterated", "scale": [0, 1], "effort": 2,
             "recommendation": "Keep teams on live products to iterate on them rather than build and move on (McKinsey)."},
            {"id": "culture.outcomes", "text": "Teams own the outcome, not the output, and are not afraid to fail.", "weight": 1.5, "effort": 3,
             "recommendation": "Celebrate outcomes and lessons from failed tests rather than features shipped (Emeritus: own the outcome, not the output)."}
          ]
        }
      ],
      "aims": [
        {"rule": "legacy-governance-for-digital", "dimension": "architecture", "horizonDays": 180,
         "measures": [{"source": "four-key", "key": "leadTimeHours", "direction": "lower"}, {"source": "four-key", "key": "deploysPerMonth", "direction": "higher"}],
         "source": "000: front ends released in days or weeks once freed from the back end's cycle"},
        {"rule": "looking-outside-for-speed", "dimension": "architecture", "horizonDays": 180,
         "measures": [{"source": "four-key", "key": "leadTimeHours", "direction": "lower"}],
         "source": "000: discrete outside applications are hard to integrate and slow to change"},
        {"rule": "build-it-and-move-on", "dimension": "culture", "horizonDays": 180,
         "measures": [{"source": "metric", "category": "customer-behavior"}, {"source": "metric", "category": "customer-satisfaction"}],
         "source": "000: teams stay on live products to iterate on them"},
        {"rule": "request-takers", "dimension": "ownership", "horizonDays": 180,
         "measures": [{"source": "metric", "category": "customer-behavior"}, {"source": "metric", "category": "current-sales"}],
         "source": "000, 004: product managers own experiences and the outcomes of their products"},
        {"rule": "unfair-or-output-metrics", "dimension": "incentives", "horizonDays": 180,
         "measures": [{"source": "metric", "category": "customer-behavior"}, {"source": "metric", "category": "current-sales"}],
         "source": "000, 004: managers measured on business outcomes they influence (conversion, sales, satisfaction)"},
        {"rule": "roadmap-without-a-problem", "dimension": "product-definition", "horizonDays": 180,
         "measures": [{"source": "metric", "category": "customer-behavior"}],
         "source": "002: a roadmap from validated user problems"},
        {"rule": "product-silos", "dimension": "customer-centricity", "horizonDays": 365,
         "measures": [{"source": "metric", "category": "customer-satisfaction"}],
         "source": "003: one customer across products"},
        {"rule": "siloed-objectives", "dimension": "strategy", "horizonDays": 180, "measures": [],
         "source": "004: shared OKRs across departments"},
        {"rule": "separate-digital-organization", "dimension": "collaboration", "horizonDays": 365, "measures": [],
         "source": "000: the digital unit in step with the business"},
        {"rule": "platforms-without-reorientation", "dimension": "product-definition", "horizonDays": 365, "measures": [],
         "source": "000: a portfolio defined by experiences with accountable owners"},
        {"rule": "ownership.stages", "dimension": "ownership", "horizonDays": 180, "measures": [],
         "source": "000: one accountable manager per stage"}
      ]
    }
    """#
}
