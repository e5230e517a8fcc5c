import TwoSpeedAssessment
import TwoSpeedModel
import TwoSpeedRPC
import TwoSpeedSchema

/// Every method of the engine as one value: its name, summary, params (a struct and the list rpc.discover
/// prints), result (a type and its schema), errors and whether it writes, blocks or is for administrators.
/// The engine registers one handler per spec (`Method(Contract.entityGet) { (p: EntityGetParams, call) in ... }`);
/// the Swift client calls any of them typed (`client.call(Contract.entityGet, params)`). A new method is
/// its spec here, its case in MethodName and its handler; ContractTests fails on a method without a spec.
public enum Contract {
    /// Every spec, in the engine's table order (rpc.discover's).
    public static let all: [any AnyMethodSpec] = [
        discover, engineInfo, portfolioPut, portfolioGet, portfolioList, portfolioDelete, entityGet, entityList, entityUpsert,
        entityRemove, metricObserve,
        assessmentRun, assessmentGet, assessmentHistory, assessmentModelPut, assessmentModelList, assessmentModelGet,
        assessmentModelDelete, analysisCoverage, analysisPrioritize, analysisSpeed, analysisOkrs, analysisAccountability,
        analysisPitfalls, experimentEvaluate,
        reportRender,
        pluginList, pluginLoad, pluginUnload, pluginCall, pluginCheck, pluginCollect,
        deliveryRecord, deliveryMetrics, deliveryImport,
        importBackstage, importCSV,
        recommendationHistory, recommendationDismiss, recommendationReopen, campaignPut, campaignGet, campaignList, campaignDelete,
        recommendationOutcomes,
    ]

    /// The param most methods start with.
    public static let portfolioParam = Param("portfolio", .identifier(), "the portfolio's id")
    static let modelID = Schema.identifier("an assessment model's id (default \"\(DefaultModel.id)\")")
    static let adviceKey = Param("key", .string(minLength: 1, maxLength: 10_000), "a recommendation's key (from assessment.run or recommendation.history)")
    static let rowRevision = Param("ifRevision", .integer(min: 0), required: false, "refuse unless the row is at this revision (0: none yet)")
    static let campaignID = Param("id", .identifier(), "the campaign's id")

    // MARK: rpc.discover (served by the dispatcher itself)

    public static let discover = MethodSpec<NoParams, AnyJSON>(MethodName.discover.rawValue,
        summary: "The OpenRPC document of this engine: every method with JSON Schemas for its params and result.",
        result: Schema.object("OpenRPC", "An OpenRPC 1.3 document (spec.open-rpc.org).", [:]).openObject(), mutates: false)

    // MARK: Portfolios and entities

    public static let engineInfo = MethodSpec<NoParams, EngineInfo>(MethodName.engineInfo.rawValue, summary: "Version, store and counts.",
        result: EngineInfo.schema, mutates: false)

    public static let portfolioPut = MethodSpec<PutReceived, PutResult>(MethodName.portfolioPut.rawValue,
        summary: "Stores a whole portfolio, replacing any with the same id.", params: PutParams.params, result: PutResult.schema,
        mutates: true, errors: [.revisionMismatch, .storeError, .tooLarge])

    public static let portfolioGet = MethodSpec<GetParams, PortfolioRecord>(MethodName.portfolioGet.rawValue,
        summary: "A whole portfolio with its revision.", params: GetParams.params, result: PortfolioRecord.schema, mutates: false,
        errors: [.notFound], blocking: true)

    public static let portfolioList = MethodSpec<NoParams, PortfolioList>(MethodName.portfolioList.rawValue,
        summary: "Every portfolio in the store, summarized.", result: PortfolioList.schema, mutates: false)

    public static let portfolioDelete = MethodSpec<DeleteParams, DeleteResult>(MethodName.portfolioDelete.rawValue,
        summary: "Deletes a portfolio and everything in it.", params: DeleteParams.params, result: DeleteResult.schema,
        mutates: true, errors: [.notFound, .revisionMismatch, .storeError])

    public static let entityGet = MethodSpec<EntityGetParams, EntityResult<AnyJSON>>(MethodName.entityGet.rawValue,
        summary: "One entity of a portfolio by kind and id.", params: EntityGetParams.params, result: ContractSchemas.entityResult,
        mutates: false, errors: [.notFound])

    public static let entityList = MethodSpec<EntityListParams, EntityListResult<AnyJSON>>(MethodName.entityList.rawValue,
        summary: "Every entity of one kind in a portfolio, in order.", params: EntityListParams.params, result: ContractSchemas.entityList,
        mutates: false, errors: [.notFound])

    public static let entityUpsert = MethodSpec<UpsertParams<RawJSON>, EntityChange>(MethodName.entityUpsert.rawValue,
        summary: "Adds an entity or replaces the one with the same id. A metric given without observations keeps the ones it has.",
        params: UpsertParamList.params, result: EntityChange.schema, mutates: true,
        errors: [.notFound, .conflict, .revisionMismatch, .storeError])

    public static let entityRemove = MethodSpec<RemoveParams, EntityChange>(MethodName.entityRemove.rawValue,
        summary: "Removes an entity that nothing references any more.", params: RemoveParams.params, result: EntityChange.schema,
        mutates: true, errors: [.notFound, .conflict, .revisionMismatch, .storeError])

    public static let metricObserve = MethodSpec<ObserveParams, ObserveResult>(MethodName.metricObserve.rawValue,
        summary: "Appends observations to a metric without resending the portfolio.", params: ObserveParams.params,
        result: ObserveResult.schema, mutates: true, errors: [.notFound, .revisionMismatch, .storeError])

    // MARK: Assessment (each works through a whole portfolio or a kept result: off an event loop)

    public static let assessmentRun = MethodSpec<AssessmentRunParams, AssessmentResult>(MethodName.assessmentRun.rawValue,
        summary: "Assesses a portfolio: dimension scores with the facts and answers behind them, "
            + "pitfalls, ranked recommendations and the analyses. Kept for assessment.history unless keep is false.",
        params: [portfolioParam,
                 Param("model", modelID, required: false, "the model to assess against"),
                 Param("answers", .array(ModelSchemas.answer, "self-assessment answers; they override the portfolio's own", maxItems: 10_000),
                       required: false, "answers for this run"),
                 Param("asOf", .formatted(.date), required: false, "the date the assessment speaks for (default: the latest date in the data)"),
                 Param("prioritization", .oneOf(Prioritizer.methods), required: false, "ranking method for the prioritization analysis"),
                 Param("keep", .boolean(), required: false, "keep the result (default true)")],
        result: ResultSchemas.result, mutates: true, errors: [.notFound, .storeError], blocking: true)

    public static let assessmentGet = MethodSpec<AssessmentGetParams, AssessmentResult>(MethodName.assessmentGet.rawValue,
        summary: "A kept assessment result by its run number, or the latest kept run.",
        params: [portfolioParam, Param("run", .integer(min: 1), required: false, "the run number (default: the latest kept run)")],
        result: ResultSchemas.result, mutates: false, errors: [.notFound], blocking: true)

    public static let assessmentHistory = MethodSpec<AssessmentHistoryParams, RunHistory>(MethodName.assessmentHistory.rawValue,
        summary: "Scores per dimension over time, and what changed between two runs (the last two unless compare names them).",
        params: [portfolioParam, Param("model", modelID, required: false, "only runs of this model"),
                 Param("compare", .array(.integer(min: 1), minItems: 2, maxItems: 2), required: false, "two run numbers")],
        result: RunHistory.schema, mutates: false, errors: [.notFound], blocking: true)

    public static let assessmentModelPut = MethodSpec<ModelPutParams, ModelPutResult>(MethodName.assessmentModelPut.rawValue,
        summary: "Stores a custom assessment model (a company's own, or a public one), validated like a portfolio.",
        params: [Param("model", AssessmentModel.schema, "the model document")],
        result: ModelPutResult.schema, mutates: true, errors: [.conflict, .storeError], blocking: true)

    public static let assessmentModelList = MethodSpec<NoParams, ModelList>(MethodName.assessmentModelList.rawValue,
        summary: "The assessment models: the built-in default and the custom ones.", result: ModelList.schema, mutates: false, blocking: true)

    public static let assessmentModelGet = MethodSpec<ModelIDParams, ModelResult>(MethodName.assessmentModelGet.rawValue,
        summary: "One assessment model, whole.", params: [Param("id", modelID, "the model")], result: ModelResult.schema,
        mutates: false, errors: [.notFound], blocking: true)

    public static let assessmentModelDelete = MethodSpec<ModelIDParams, Deleted>(MethodName.assessmentModelDelete.rawValue,
        summary: "Deletes a custom assessment model (kept results stay).", params: [Param("id", modelID, "the model")],
        result: .object(required: ["id", "deleted"], ["id": .identifier(), "deleted": .boolean()]),
        mutates: true, errors: [.notFound, .conflict, .storeError], blocking: true)

    public static let analysisCoverage = MethodSpec<PortfolioParams, CoverageMap>(MethodName.analysisCoverage.rawValue,
        summary: "Journeys × stages → owners, products and metrics; unowned and doubly owned stages.",
        params: [portfolioParam], result: ResultSchemas.coverage, mutates: false, errors: [.notFound], blocking: true)

    public static let analysisPrioritize = MethodSpec<PrioritizeParams, Prioritization>(MethodName.analysisPrioritize.rawValue,
        summary: "Active products ranked by value against resources, RICE or WSJF.",
        params: [portfolioParam, Param("method", .oneOf(Prioritizer.methods), required: false, "value (default), rice or wsjf")],
        result: ResultSchemas.prioritization, mutates: false, errors: [.notFound], blocking: true)

    public static let analysisSpeed = MethodSpec<PortfolioParams, SpeedAnalysis>(MethodName.analysisSpeed.rawValue,
        summary: "Systems by DORA performance cluster and layer, and the couplings that hold fast systems to slow ones.",
        params: [portfolioParam], result: ResultSchemas.speed, mutates: false, errors: [.notFound], blocking: true)

    public static let analysisOkrs = MethodSpec<PortfolioParams, OKRAlignment>(MethodName.analysisOkrs.rawValue,
        summary: "OKR alignment: shared objectives, orphan key results, products per objective.",
        params: [portfolioParam], result: ResultSchemas.okrs, mutates: false, errors: [.notFound], blocking: true)

    public static let analysisAccountability = MethodSpec<PortfolioParams, Accountability>(MethodName.analysisAccountability.rawValue,
        summary: "Each manager's share of their metrics that they can influence directly.",
        params: [portfolioParam], result: ResultSchemas.accountability, mutates: false, errors: [.notFound], blocking: true)

    public static let analysisPitfalls = MethodSpec<PortfolioParams, PitfallList>(MethodName.analysisPitfalls.rawValue,
        summary: "The pitfalls of the two-speed operating model found in the portfolio.",
        params: [portfolioParam], result: PitfallList.schema, mutates: false, errors: [.notFound], blocking: true)

    public static let experimentEvaluate = MethodSpec<ExperimentParams, ExperimentEvaluation>(MethodName.experimentEvaluate.rawValue,
        summary: "Lift with its confidence interval, a two-proportion z-test, a sample-ratio "
            + "check and the next rollout step: for an experiment of a portfolio, or for counts given directly.",
        params: [Param("portfolio", .identifier(), required: false, "with experiment: the portfolio"),
                 Param("experiment", .identifier(), required: false, "with portfolio: the experiment's id"),
                 Param("control", ModelSchemas.arm, required: false, "without portfolio: the control arm's counts"),
                 Param("variant", ModelSchemas.arm, required: false, "without portfolio: the variant arm's counts"),
                 Param("plannedShare", .number(exclusiveMin: 0).withMaximum(0.999_999), required: false,
                       "without portfolio: the variant's planned share of traffic (default 0.5)"),
                 Param("rollout", .array(.number(exclusiveMin: 0).withMaximum(1), minItems: 1, maxItems: 20), required: false,
                       "without portfolio: the rollout stages' shares, to name the next step"),
                 Param("stage", .integer(min: 0), required: false, "without portfolio: the running stage's index"),
                 Param("confidence", .number(min: 0.5).withMaximum(0.9999), required: false, "confidence level (default 0.95)"),
                 Param("direction", .oneOf(Vocabulary.directions), required: false,
                       "without portfolio: which way the counted outcome is better (default higher)")],
        result: ResultSchemas.experiment, mutates: false, errors: [.notFound], blocking: true)

    // MARK: Reports

    /// The formats the engine renders itself; render plugins add theirs.
    public static let reportFormats = ["text", "html", "markdown"]

    public static let reportRender = MethodSpec<RenderParams, Rendered>(MethodName.reportRender.rawValue,
        summary: "Renders an assessment result for people to read: text for a terminal, one self-contained HTML page "
            + "with charts, or Markdown tables. Give the result itself, or a portfolio (its latest kept run, or a fresh "
            + "assessment when none is kept) and optionally a run; a kept run is compared with the kept run of the same "
            + "model before it, and html and markdown chart every kept run of the model up to it (the trend).",
        params: [Param("format", .identifier("text, html, markdown, or a format of a render plugin (plugin.list names them)"), "the output format"),
                 Param("result", ResultSchemas.result, required: false, "an assessment result, as assessment.run returns it"),
                 Param("previous", ResultSchemas.result, required: false,
                       "an earlier result of the same model to compare with (html and markdown: the radar overlays it, the "
                       + "dimension table shows the change); with portfolio it replaces the kept run before"),
                 Param("portfolio", .identifier(), required: false, "instead of result: the portfolio"),
                 Param("run", .integer(min: 1), required: false, "with portfolio: the kept run (default the latest)"),
                 Param("width", .integer(min: 40, max: 400), required: false, "text: the line width (default 100)")],
        result: Rendered.schema, mutates: false, errors: [.notFound, .pluginError], blocking: true)

    // MARK: Plugins (they may take up to their timeout)

    public static let pluginList = MethodSpec<NoParams, PluginList>(MethodName.pluginList.rawValue,
        summary: "The plugins: loaded ones with their health, and manifests that did not load with every reason.",
        result: PluginList.schema, mutates: false, blocking: true)

    public static let pluginLoad = MethodSpec<PluginLoadParams, PluginEntry>(MethodName.pluginLoad.rawValue,
        summary: "Loads a plugin from its manifest (plugin.json). A manifest with errors is refused; "
            + "data.errors names each, with its pointer into the manifest.",
        params: [Param("manifest", .string("path of the plugin.json", minLength: 1, maxLength: 4_096), "the manifest file")],
        result: PluginSchemas.info, mutates: true, errors: [.pluginError], blocking: true, adminOnly: true)

    public static let pluginUnload = MethodSpec<PluginNameParams, Unloaded>(MethodName.pluginUnload.rawValue,
        summary: "Stops a plugin: a process plugin's process ends; a library stays mapped but is no longer called.",
        params: [Param("name", .identifier(), "the plugin")],
        result: .object(required: ["name", "unloaded"], ["name": .identifier(), "unloaded": .boolean()]),
        mutates: true, errors: [.notFound], blocking: true, adminOnly: true)

    public static let pluginCall = MethodSpec<PluginCallReceived, AnyJSON>(MethodName.pluginCall.rawValue,
        summary: "Sends one request to a plugin and returns its result as it is.",
        params: [Param("plugin", .identifier(), "the plugin"), Param("method", .name(), "the plugin's method"),
                 Param("params", .anyOf([.map(.anyValue), .array(.anyValue)]), required: false, "the params, as the plugin takes them")],
        result: .anyValue, mutates: true, errors: [.notFound, .pluginError], blocking: true)

    public static let pluginCheck = MethodSpec<PluginCheckParams, PluginCheckResult>(MethodName.pluginCheck.rawValue,
        summary: "Runs one check plugin on a stored portfolio and returns its findings as the plugin "
            + "reported them, after checking them against the check contract (assessment.run runs every check plugin).",
        params: [Param("plugin", .identifier(), "a plugin serving check"), portfolioParam],
        result: PluginCheckResult.schema, mutates: false, errors: [.notFound, .pluginError], blocking: true)

    public static let pluginCollect = MethodSpec<PluginCollectParams, CollectResult>(MethodName.pluginCollect.rawValue,
        summary: "Asks a metrics plugin for observations of a portfolio's metrics and appends them.",
        params: [Param("plugin", .identifier(), "a plugin serving metrics"), portfolioParam,
                 Param("metrics", .array(.identifier(), minItems: 1, maxItems: 100_000, unique: true), required: false,
                       "the metrics to collect (default all)"),
                 Param("since", .formatted(.timestamp), required: false, "only observations after this")],
        result: CollectResult.schema, mutates: true, errors: [.notFound, .pluginError, .storeError], blocking: true)

    // MARK: Delivery

    public static let deliveryRecord = MethodSpec<DeliveryRecordReceived, RecordResult>(MethodName.deliveryRecord.rawValue,
        summary: "Records deployments and incidents for DORA's four keys, each replacing the "
            + "one with the same id. A bad event is reported with its pointer and skipped (nothing is recorded "
            + "when atomic is true); the rest are written in one transaction.",
        params: [portfolioParam,
                 Param("deployments", .dependent([.array(DeliverySchemas.deployment, maxItems: 5_000_000)], "the deployments"),
                       required: false, "the deployments"),
                 Param("incidents", .dependent([.array(DeliverySchemas.incident, maxItems: 5_000_000)], "the incidents"),
                       required: false, "the incidents"),
                 Param("atomic", .boolean(), required: false, "record nothing if any event is bad (default false)")],
        result: RecordResult.schema, mutates: true, errors: [.notFound, .invalidParams, .storeError], blocking: true)

    public static let deliveryMetrics = MethodSpec<DeliveryMetricsParams, MetricsResult>(MethodName.deliveryMetrics.rawValue,
        summary: "DORA's four keys per system computed from recorded events, each with its "
            + "DORA 2024 bucket, for the last `days` days (default 90) or several such windows back.",
        params: [portfolioParam,
                 Param("system", .identifier(), required: false, "only this system"),
                 Param("until", .formatted(.timestamp), required: false, "the end of the newest window, exclusive (default now)"),
                 Param("days", .integer(min: 1, max: 3_650), required: false, "window length in days (default 90)"),
                 Param("windows", .integer(min: 1, max: 120), required: false, "how many consecutive windows (default 1)")],
        result: MetricsResult.schema, mutates: false, errors: [.notFound, .storeError], blocking: true)

    // MARK: Advice and campaigns

    public static let recommendationHistory = MethodSpec<AdviceHistoryParams, AdviceHistory>(MethodName.recommendationHistory.rawValue,
        summary: "Every piece of advice across the kept runs: first and last run given, and its status in each run "
            + "(open, resolved, dismissed, regressed, obsolete, superseded, model-changed).",
        params: [portfolioParam, Param("upToRun", .integer(min: 1), required: false, "a kept run: the history as it stood at that run (default: every run)")],
        result: AdviceSchemas.history, mutates: false, errors: [.notFound, .storeError], blocking: true)

    public static let recommendationDismiss = MethodSpec<DismissParams, DismissResult>(MethodName.recommendationDismiss.rawValue,
        summary: "Dismisses a piece of advice with a reason: shown in the history, never counted as acted on.",
        params: [portfolioParam, adviceKey, Param("reason", .string(minLength: 1, maxLength: 4_000), "why it is dismissed"), rowRevision],
        result: .object("DismissResult", required: ["key", "dismissed", "by", "at", "revision"], [
            "key": .string(), "dismissed": .boolean(), "by": .string(), "at": .formatted(.timestamp), "revision": .integer(min: 1)]),
        mutates: true, errors: [.notFound, .revisionMismatch, .storeError])

    public static let recommendationReopen = MethodSpec<ReopenParams, ReopenResult>(MethodName.recommendationReopen.rawValue,
        summary: "Undoes a dismissal.", params: [portfolioParam, adviceKey, rowRevision],
        result: .object("ReopenResult", required: ["key", "reopened"], ["key": .string(), "reopened": .boolean()]),
        mutates: true, errors: [.notFound, .revisionMismatch, .storeError])

    public static let campaignPut = MethodSpec<CampaignPutParams, CampaignPutResult>(MethodName.campaignPut.rawValue,
        summary: "Stores a campaign, replacing the one with the same id.",
        params: [portfolioParam, Param("campaign", Campaign.schema, "the campaign"), rowRevision],
        result: .object("CampaignPutResult", required: ["id", "revision", "created"], [
            "id": .identifier(), "revision": .integer(min: 1), "created": .boolean()]),
        mutates: true, errors: [.notFound, .revisionMismatch, .storeError])

    public static let campaignGet = MethodSpec<CampaignIDParams, CampaignReport>(MethodName.campaignGet.rawValue,
        summary: "A campaign with its status, progress overall and per rule, and burn-up across kept runs.",
        params: [portfolioParam, campaignID], result: AdviceSchemas.campaignReport, mutates: false, errors: [.notFound, .storeError],
        blocking: true)

    public static let campaignList = MethodSpec<PortfolioParams, CampaignList>(MethodName.campaignList.rawValue,
        summary: "Every campaign of a portfolio with its status and progress.", params: [portfolioParam],
        result: .object("CampaignList", required: ["portfolio", "campaigns"], [
            "portfolio": .identifier(), "campaigns": .array(AdviceSchemas.campaignReport)]),
        mutates: false, errors: [.notFound, .storeError], blocking: true)

    public static let campaignDelete = MethodSpec<CampaignDeleteParams, Deleted>(MethodName.campaignDelete.rawValue,
        summary: "Deletes a campaign.", params: [portfolioParam, campaignID, rowRevision],
        result: .object("CampaignDeleteResult", required: ["id", "deleted"], ["id": .identifier(), "deleted": .boolean()]),
        mutates: true, errors: [.notFound, .revisionMismatch, .storeError])

    public static let recommendationOutcomes = MethodSpec<PortfolioParams, OutcomeReport>(MethodName.recommendationOutcomes.rawValue,
        summary: "For advice resolved at some run, each measure it aims at (the model's aims) before against after: "
            + "a level shift with a 95% interval from a segmented regression; an association, not a cause.",
        params: [portfolioParam], result: AdviceSchemas.outcome, mutates: false, errors: [.notFound, .storeError], blocking: true)
}

extension Schema {
    public func withMaximum(_ m: Double) -> Schema { var s = self; s.maximum = m; return s }
}
