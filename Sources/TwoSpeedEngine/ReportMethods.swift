import TwoSpeedAssessment
import TwoSpeedJSON
import TwoSpeedRPC
import TwoSpeedReport
import TwoSpeedSchema

struct Rendered: Codable { var format: String; var content: String }

extension Engine {
    static let reportFormats = ["text"]

    func reportMethods() -> [Method] {
        [
            .encoding("report.render", summary: "Renders an assessment result for people to read. Give the result itself, "
                        + "or a portfolio (its latest kept run, or a fresh assessment when none is kept) and optionally a run.",
                      params: [Param("format", .oneOf(Engine.reportFormats), "the output format"),
                               Param("result", ResultSchemas.result, required: false, "an assessment result, as assessment.run returns it"),
                               Param("portfolio", .identifier(), required: false, "instead of result: the portfolio"),
                               Param("run", .integer(min: 1), required: false, "with portfolio: the kept run (default the latest)"),
                               Param("width", .integer(min: 40, max: 400), required: false, "text: the line width (default 100)")],
                      result: .object("Rendered", required: ["format", "content"], [
                          "format": .oneOf(Engine.reportFormats), "content": .string(maxLength: 1 << 30)]),
                      mutates: false, errors: [.notFound]) { [unowned self] p in try render(p) },
        ]
    }

    func render(_ p: Params) throws -> Rendered {
        let result: AssessmentResult
        if p["result"] != nil {
            if p["portfolio"] != nil {
                throw RPCError(.invalidParams, pointer: p.pointer("portfolio").description, "give either result or portfolio")
            }
            result = try p.decode("result")
        } else if let pid = p.string("portfolio") {
            let runs = try keptRuns(pid, p.pointer("portfolio"))
            if let n = p.int("run") {
                guard let r = runs.first(where: { $0.run == n }) else {
                    throw RPCError(.notFound, pointer: p.pointer("run").description, "no kept run \(n)")
                }
                result = r
            } else if let last = runs.last {
                result = last
            } else {
                let sp = try snapshot(pid, p.pointer("portfolio"))
                var r = Assessor.assess(sp.portfolio, model: DefaultModel.model, at: nowTimestamp())
                r.revision = sp.revision
                result = r
            }
        } else {
            throw RPCError(.invalidParams, pointer: p.pointer("result").description, "give result or portfolio")
        }
        return Rendered(format: "text", content: TextReport.render(result, width: p.int("width") ?? 100))
    }
}
