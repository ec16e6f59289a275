"""What management can value at the end of month t, from month-t state only (JAX, pure; no look-ahead).

``Valuer`` holds one path's valuation constants (C,) and gives, for month-t state:

* ``used_value_per_gpu(log_dev, age)``: the used-GPU market value per GPU, capex decayed with age at the
  path's rate and moved with the market price against the scenario's expectation,
  ``capex exp(log_dev - decay age)`` with ``log_dev = log(P_t / (P_0 e^{-E[decline] t}))``;
* ``valuations(...)``: per cohort, the undiscounted cash flows (ASC 360 step 1), the value in use
  (IAS 36.30) and the fair value (ASC 820 / IFRS 13: the used market where observed, Level 2, else a
  market participant's DCF, Level 3), each from ``engine.accounting.forecast.forecast_value`` with the
  scenario's expectations (mean decline and failure rate), never the path's own future.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import jax
import jax.numpy as jnp

from engine.accounting.forecast import forecast_value


@dataclass(frozen=True)
class Valuer:
    """One path's valuation constants, (C,) by cohort unless said.

    capex_per_gpu, decay (the path's used-value decay per month, ()), expected_used_decay (()): USD,
    1/month. keep_eol: 1 - end-of-life disposal cost. book_disp_unit: book salvage per GPU net of it.
    used_disposal (()): 1.0 where end-of-life proceeds come from the used market, else book salvage (a
    number, not a static flag: both disposal policies share one compiled function). fv_life_set: static
    flag (fair value to an economic life ``fv_life`` rather than the remaining book life). Forecast inputs: spot, cf (contracted share),
    Pc (contract price), rf (renewal price factor), renew (1.0 renewed), term (contract months),
    log_rho, log_a (expected monthly price and survival, log), var_cost_fc (USD per GPU-month),
    fixed (USD per month), hours (()), log_dv, log_df (log monthly discount factors of value in use and
    fair value, ()), fv_used_market (1.0 where the fair value is the used market's).
    A JAX pytree (the two flags static), so that it can be an argument of a batched function.
    """

    capex_per_gpu: object
    decay: object
    expected_used_decay: object
    keep_eol: object
    book_disp_unit: object
    used_disposal: object
    fv_life_set: bool
    fv_life: object
    spot: object
    cf: object
    Pc: object
    rf: object
    renew: object
    term: object
    log_rho: object
    log_a: object
    var_cost_fc: object
    fixed: object
    hours: object
    log_dv: object
    log_df: object
    fv_used_market: object

    def used_value_per_gpu(self, log_dev, age_after):
        """(C,) USD per GPU at the end of month t (one exp of one sum: the same bits at any batch size)."""
        return self.capex_per_gpu * jnp.exp(log_dev - self.decay * age_after)

    def disposal_unit(self, used_unit):
        """End-of-life proceeds per GPU now, net of disposal costs, (C,) USD: the used value, or book salvage."""
        return jnp.where(self.used_disposal > 0, used_unit * self.keep_eol, self.book_disp_unit)

    def disposal_at(self, n_live, used_unit, n):
        """End-of-life proceeds forecast ``n`` months ahead, net of disposal costs, (C,) USD."""
        return jnp.where(self.used_disposal > 0, n_live * used_unit * jnp.exp(-self.expected_used_decay * n) * self.keep_eol,
                         n_live * self.book_disp_unit)

    def valuations(self, used_unit, n_live, uc, pc, age_after, n_left):
        """(undiscounted cash flows, value in use, fair value), each (C,) USD, at the end of month t.

        ``used_unit`` (C,) used value per GPU now; ``n_live`` GPUs in service; ``uc``, ``pc`` utilization and
        market price now; ``age_after`` months since purchase; ``n_left`` months of book life left."""
        n = jnp.maximum(n_left, 0.0)
        common = dict(
            alive=n_live, util=uc, price_eff=pc * self.spot, contract_share=self.cf, contract_price=self.Pc,
            renewal_price=self.Pc * self.rf, share_after=self.cf * self.renew, log_rho=self.log_rho, log_a=self.log_a,
            var_cost=self.var_cost_fc, fixed_cost=self.fixed, hours=self.hours,
        )
        m_con = jnp.clip(self.term - age_after, 0.0, n)
        disp = self.disposal_at(n_live, used_unit, n)
        undisc = forecast_value(log_d=0.0, n=n, m_contract=m_con, disposal=disp, **common)
        viu = forecast_value(log_d=self.log_dv, n=n, m_contract=m_con, disposal=disp, **common)
        n_fv = jnp.maximum(self.fv_life - age_after, 0.0) if self.fv_life_set else n
        fv_dcf = forecast_value(log_d=self.log_df, n=n_fv, m_contract=jnp.clip(self.term - age_after, 0.0, n_fv),
                                disposal=self.disposal_at(n_live, used_unit, n_fv), **common)
        fair = jnp.where(self.fv_used_market > 0, n_live * used_unit, fv_dcf)
        return undisc, viu, fair


_STATIC = ("fv_life_set",)
jax.tree_util.register_dataclass(Valuer, data_fields=[f.name for f in fields(Valuer) if f.name not in _STATIC], meta_fields=list(_STATIC))
