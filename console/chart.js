// The sales trend as an inline SVG: revenue per day as bars, refunds below them, net as a line. A few dozen
// elements drawn by hand cost less than a chart library and need nothing from outside the console.

import {money} from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export function salesChart(trend) {
  const days = trend.days;
  const width = 720;
  const height = 240;
  const pad = {left: 64, right: 12, top: 12, bottom: 36};
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const top = Math.max(100, ...days.map((d) => d.revenue));
  const bottom = Math.min(0, ...days.map((d) => d.net), ...days.map((d) => -d.refunds));
  const y = (v) => pad.top + plotH * (1 - (v - bottom) / (top - bottom));
  const step = plotW / Math.max(1, days.length);
  const label = (amount) => money({amount, currency: trend.currency});
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart", id: "sales-chart",
    "aria-label": `revenue per day from ${trend.from} to ${trend.to}`});
  chart.append(svg("title", {}, `Revenue per day, ${trend.from} to ${trend.to}`));
  for (const v of [bottom, (top + bottom) / 2, top]) {
    chart.append(svg("line", {x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: "grid"}));
    chart.append(svg("text", {x: pad.left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis"},
      label(Math.round(v) || 0)));
  }
  days.forEach((d, i) => {
    const x = pad.left + i * step;
    const bar = svg("rect", {x: x + step * 0.15, width: Math.max(1, step * 0.7), y: y(d.revenue),
      height: Math.max(0, y(0) - y(d.revenue)), class: "revenue"});
    bar.append(svg("title", {}, `${d.date}: revenue ${label(d.revenue)}, refunds ${label(d.refunds)}, ` +
      `net ${label(d.net)}, ${d.orders_placed} orders placed`));
    chart.append(bar);
    if (d.refunds) {
      chart.append(svg("rect", {x: x + step * 0.15, width: Math.max(1, step * 0.7), y: y(0),
        height: Math.max(0, y(-d.refunds) - y(0)), class: "refunds"}));
    }
    if (days.length <= 14 || i % Math.ceil(days.length / 10) === 0) {
      chart.append(svg("text", {x: x + step / 2, y: height - pad.bottom + 16, "text-anchor": "middle",
        class: "axis"}, d.date.slice(5)));
    }
  });
  const points = days.map((d, i) => `${pad.left + i * step + step / 2},${y(d.net)}`).join(" ");
  if (days.length) chart.append(svg("polyline", {points, class: "net"}));
  const legend = svg("g", {class: "legend", transform: `translate(${pad.left}, ${height - 8})`});
  legend.append(svg("rect", {x: 0, y: -9, width: 10, height: 10, class: "revenue"}),
    svg("text", {x: 14, y: 0}, "revenue"), svg("rect", {x: 84, y: -9, width: 10, height: 10, class: "refunds"}),
    svg("text", {x: 98, y: 0}, "refunds"), svg("line", {x1: 160, x2: 176, y1: -4, y2: -4, class: "net"}),
    svg("text", {x: 180, y: 0}, "net"));
  chart.append(legend);
  return chart;
}
