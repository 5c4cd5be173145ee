alter table responses drop column answer_ms;
