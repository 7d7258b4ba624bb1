{{ dora_metrics('quarter') }}
