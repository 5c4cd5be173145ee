drop table images;
