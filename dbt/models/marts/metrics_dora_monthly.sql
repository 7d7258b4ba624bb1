{{ dora_metrics('month') }}
