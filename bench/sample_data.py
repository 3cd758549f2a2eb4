"""The catalog and the names the data generator draws from: partners, institutes, programs."""

#: share of the population (per cent, 2020 census rounded) of the commonest family names, and a
#: few rarer ones that exercise the pinyin rules: compound 欧阳 and 司马, 曾 read zeng, 吕 Lyu
FAMILY_NAMES = [
    ("王", 7.1), ("李", 7.0), ("张", 6.5), ("刘", 5.4), ("陈", 4.6), ("杨", 3.1), ("赵", 2.3),
    ("黄", 2.2), ("周", 2.1), ("吴", 2.0), ("徐", 1.3), ("孙", 1.2), ("胡", 1.1), ("朱", 1.05),
    ("高", 1.0), ("林", 0.97), ("何", 0.94), ("郭", 0.93), ("马", 0.89), ("罗", 0.8),
    ("梁", 0.7), ("宋", 0.6), ("郑", 0.6), ("谢", 0.55), ("韩", 0.5), ("唐", 0.5), ("冯", 0.5),
    ("于", 0.45), ("董", 0.45), ("萧", 0.4), ("程", 0.4), ("曹", 0.4), ("袁", 0.38),
    ("邓", 0.37), ("许", 0.36), ("傅", 0.35), ("沈", 0.34), ("曾", 0.33), ("彭", 0.32),
    ("吕", 0.3), ("苏", 0.3), ("卢", 0.3), ("蒋", 0.3), ("蔡", 0.3), ("贾", 0.25), ("丁", 0.25),
    ("魏", 0.25), ("薛", 0.24), ("叶", 0.24), ("阎", 0.2), ("单", 0.05), ("欧阳", 0.05),
    ("司马", 0.01), ("上官", 0.01), ("诸葛", 0.01),
]
#: characters common in given names; a given name is one of them or two
GIVEN_CHARACTERS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华红建文辉玲萍鹏飞宇浩然子涵欣怡梓轩"
    "思雨晨阳佳琪俊杰婷雪梅志国海燕波斌宁琳颖慧晓东云峰凯鑫昊天博嘉"
)
PARTNERS = [
    ("Tianshui Normal University", "天水师范学院", "Tianshui", "Gansu"),
    ("Datong University", "山西大同大学", "Datong", "Shanxi"),
    ("Shandong University of Railway Transport", "山东铁路交通学院", "Jinan", "Shandong"),
    ("Harbin Cambridge University", "哈尔滨剑桥学院", "Harbin", "Heilongjiang"),
    ("China University of Petroleum", "中国石油大学（华东）", "Qingdao", "Shandong"),
    ("Heilongjiang University", "黑龙江大学", "Harbin", "Heilongjiang"),
    ("Changchun University", "长春大学", "Changchun", "Jilin"),
    ("Shenyang Normal University", "沈阳师范大学", "Shenyang", "Liaoning"),
    ("Dalian University of Foreign Languages", "大连外国语大学", "Dalian", "Liaoning"),
    ("Xinjiang University", "新疆大学", "Urumqi", "Xinjiang"),
    ("Lanzhou University of Technology", "兰州理工大学", "Lanzhou", "Gansu"),
    ("Qiqihar University", "齐齐哈尔大学", "Qiqihar", "Heilongjiang"),
]
INSTITUTES = [
    ("Institute of Industrial Management, Economics and Trade", "工业管理、经济与贸易学院",
     "Институт промышленного менеджмента, экономики и торговли"),
    ("Institute of Computer Science and Technology", "计算机科学与技术学院",
     "Институт компьютерных наук и технологий"),
    ("Institute of Humanities", "人文学院", "Гуманитарный институт"),
    ("Institute of Energy", "能源学院", "Институт энергетики"),
]
#: code, English title, Chinese title, Russian title, number of modules
PROGRAMS = [
    ("IE", "Investment Ecosystem", "投资生态系统", "Инвестиционная экосистема", 16),
    ("IS", "Intellectual Systems", "智能系统", "Интеллектуальные системы", 18),
    ("RL", "Russian as a Foreign Language", "对外俄语教学", "Русский как иностранный", 14),
    ("DE", "Digital Economy", "数字经济", "Цифровая экономика", 15),
    ("DS", "Data Science", "数据科学", "Наука о данных", 17),
    ("EP", "Energy Policy", "能源政策", "Энергетическая политика", 14),
    ("HE", "Higher Education Pedagogy", "高等教育教学法", "Педагогика высшей школы", 16),
    ("LG", "Logistics", "物流管理", "Логистика", 15),
    ("MT", "Materials Technology", "材料技术", "Технологии материалов", 17),
    ("RB", "Robotics", "机器人技术", "Робототехника", 18),
    ("TR", "Translation Studies", "翻译研究", "Переводоведение", 14),
    ("UP", "Urban Planning", "城市规划", "Градостроительство", 16),
]
