"use client";
// The services table: one row per service with its RED numbers over the window and its traffic split by version.
import { classifyErrorRate, formatMs, formatPercent, formatRate } from "@trellis/ui";
import type { RouterOutputs } from "@trellis/api";

type ServiceRow = RouterOutputs["services"]["list"][number];

export function ServicesTable({ services }: { services: ServiceRow[] }) {
  return (
    <table className="data-table" data-testid="services-table">
      <thead>
        <tr>
          <th>Service</th>
          <th>Versions</th>
          <th className="num">Requests/s</th>
          <th className="num">Error %</th>
          <th className="num">p50</th>
          <th className="num">p99</th>
        </tr>
      </thead>
      <tbody>
        {services.map((service) => {
          const received = service.requestRate > 0;
          const level = classifyErrorRate(service.errorRate, service.requestRate);
          return (
            <tr key={`${service.namespace}/${service.service}`} data-testid={`service-row-${service.service}`}>
              <td>
                <span className="service-name">{service.service}</span>
                {service.namespace !== "default" && <span className="muted"> · {service.namespace}</span>}
              </td>
              <td>
                <VersionChips service={service} />
              </td>
              <td className="num" data-testid="service-rps">
                {formatRate(service.requestRate)}
              </td>
              <td className={`num level-${level}`} data-testid="service-error-rate">
                {received ? formatPercent(service.errorRate) : "—"}
              </td>
              <td className="num">{formatMs(service.p50Ms)}</td>
              <td className="num">{formatMs(service.p99Ms)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function VersionChips({ service }: { service: ServiceRow }) {
  const several = service.versions.length > 1;
  return (
    <span className="chips">
      {service.versions.map((version) => {
        const share = service.requestRate > 0 ? version.requestRate / service.requestRate : 0;
        const level = classifyErrorRate(version.errorRate, version.requestRate);
        const label = version.version;
        return (
          <span
            key={label}
            className={`chip level-${level}`}
            title={`${label}: ${formatRate(version.requestRate)} req/s, ${formatPercent(version.errorRate)} errors`}
          >
            {label}
            {several && service.requestRate > 0 && <span className="chip-share"> {Math.round(share * 100)}%</span>}
          </span>
        );
      })}
    </span>
  );
}
